using DinCluster.Core.Batches;
using DinCluster.Core.Routing;
using Xunit.Abstractions;

namespace DinCluster.Core.Tests.Routing;

public sealed class ShardRouterTests(ITestOutputHelper output)
{
    private static double Imbalance(long[] load) => load.Max() / load.Average() - 1;

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    public void Router_keeps_max_shard_load_within_10_percent_of_mean_when_ids_are_zipf_distributed(int shards)
    {
        // Load = distinct ids a shard holds (its rows), and rows it serves in pulls: a worker pulls
        // each batch's unique ids once, so pull load = sum over batches of distinct ids per shard.
        const int seed = 4242, batches = 400, batchSize = 2048;
        output.WriteLine($"seed {seed}, Zipf(1.1) over 1,000,000 ranks, {batches} batches of {batchSize}");
        var zipf = new Zipf(1_000_000, 1.1, seed);
        var router = new ShardRouter(shards);
        var distinct = new HashSet<long>();
        var pulls = new long[shards];
        var raw = new long[shards];
        for (var b = 0; b < batches; b++)
        {
            var batch = new HashSet<long>();
            for (var i = 0; i < batchSize; i++)
            {
                long id = zipf.Next();
                raw[router.ShardOf("item", id)]++;
                batch.Add(id);
            }
            foreach (var id in batch) pulls[router.ShardOf("item", id)]++;
            distinct.UnionWith(batch);
        }
        var rows = new long[shards];
        foreach (var id in distinct) rows[router.ShardOf("item", id)]++;
        output.WriteLine($"{distinct.Count} distinct ids; imbalance rows {Imbalance(rows):P2}, pulls {Imbalance(pulls):P2}, " +
                         $"raw occurrences {Imbalance(raw):P2} (the hottest ids alone skew raw traffic; no hash can split one id)");
        Assert.True(Imbalance(rows) < 0.10, $"rows per shard {string.Join(", ", rows)}");
        Assert.True(Imbalance(pulls) < 0.10, $"pulls per shard {string.Join(", ", pulls)}");
    }

    [Theory]
    [InlineData("item", 4)]
    [InlineData("user", 7)]
    public void Router_balances_sequential_ids_within_3_percent(string table, int shards)
    {
        var router = new ShardRouter(shards);
        var load = new long[shards];
        for (long id = 0; id < 200_000; id++) load[router.ShardOf(table, id)]++;
        Assert.True(Imbalance(load) < 0.03, string.Join(", ", load));
    }

    [Fact]
    public void Router_gives_the_same_shard_in_every_process_when_inputs_are_the_same()
    {
        // Frozen values (checked against an independent Python fmix64/FNV-1a): changing the mix
        // would re-shard every existing snapshot and cluster.
        Assert.Equal(0x006c64e71db9c877UL, StableHash.OfName("item"));
        var router = new ShardRouter(4);
        Assert.Equal([2, 1, 3, 0, 1, 2, 2, 3], Enumerable.Range(0, 8).Select(i => router.ShardOf("item", i)));
        Assert.Equal(router.ShardOf("item", 5), router.ShardOf(ShardRouter.TableKey("item"), 5));
        Assert.Equal(0, new ShardRouter(1).ShardOf("item", long.MinValue));
    }

    [Fact]
    public void Split_groups_ids_by_shard_in_order_and_scatter_puts_rows_back_when_given_rows()
    {
        var router = new ShardRouter(3);
        var ids = Enumerable.Range(0, 50).Select(i => (long)i * 7919).ToArray();
        const int dim = 3;
        var values = Enumerable.Range(0, ids.Length * dim).Select(i => (float)i).ToArray();
        var split = router.Split("item", ids);
        var back = new float[values.Length];
        for (var s = 0; s < 3; s++)
        {
            Assert.All(split.Ids(s), id => Assert.Equal(s, router.ShardOf("item", id)));
            Assert.Equal(split.Positions(s).Order(), split.Positions(s));
            Assert.Equal(split.Positions(s).Select(p => ids[p]), split.Ids(s));
            split.Scatter<float>(s, split.Gather<float>(s, values, dim), back, dim);
        }
        Assert.Equal(values, back);
        Assert.Equal(ids.Length, Enumerable.Range(0, 3).Sum(s => split.Ids(s).Length));

        var parts = router.Split(new TableRows("item", dim, ids, values));
        for (var s = 0; s < 3; s++)
        {
            Assert.Equal(split.Ids(s), parts[s].Ids);
            for (var k = 0; k < parts[s].Ids.Length; k++)
                Assert.Equal(values.AsSpan(split.Positions(s)[k] * dim, dim).ToArray(), parts[s].Row(k).ToArray());
        }
    }
}
