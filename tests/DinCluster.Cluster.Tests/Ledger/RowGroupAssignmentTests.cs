using DinCluster.Cluster.Ledger;
using DinCluster.Cluster.Protocol;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Ledger;

public sealed class RowGroupAssignmentTests(ITestOutputHelper output)
{
    private static List<RowGroupRef> Groups(Random r, int files, int perFile) =>
        [.. from f in Enumerable.Range(0, files) from g in Enumerable.Range(0, perFile)
            select new RowGroupRef($"train/part-{f}.parquet", g, r.Next(1, 10_000))];

    [Fact]
    public void Assignment_gives_every_row_group_to_exactly_one_shard_when_spread()
    {
        const int seed = 11;
        output.WriteLine($"seed {seed}");
        var groups = Groups(new Random(seed), 5, 7);
        var shards = RowGroupAssignment.Assign(groups, 4);
        Assert.Equal(4, shards.Length);
        Assert.Equal(groups.OrderBy(g => g.File).ThenBy(g => g.RowGroup), shards.SelectMany(s => s).OrderBy(g => g.File).ThenBy(g => g.RowGroup));
    }

    [Fact]
    public void Assignment_balances_rows_within_the_largest_group_when_groups_differ_in_size()
    {
        const int seed = 12;
        output.WriteLine($"seed {seed}");
        var groups = Groups(new Random(seed), 3, 20);
        var rows = RowGroupAssignment.Assign(groups, 3).Select(s => s.Sum(g => g.Rows)).ToList();
        Assert.True(rows.Max() - rows.Min() <= groups.Max(g => g.Rows), $"rows per shard {string.Join(", ", rows)}");
    }

    [Fact]
    public void Assignment_is_identical_when_input_order_differs()
    {
        const int seed = 13;
        output.WriteLine($"seed {seed}");
        var groups = Groups(new Random(seed), 4, 4);
        var shuffled = groups.OrderBy(_ => Random.Shared.Next()).ToList();
        var a = RowGroupAssignment.Assign(groups, 3);
        var b = RowGroupAssignment.Assign(shuffled, 3);
        for (var s = 0; s < 3; s++) Assert.Equal(a[s], b[s]);
        foreach (var shard in a)
            Assert.Equal(shard.OrderBy(g => g.File, StringComparer.Ordinal).ThenBy(g => g.RowGroup), shard);
    }

    [Fact]
    public void Assignment_leaves_shards_empty_when_there_are_fewer_groups_than_shards()
    {
        var shards = RowGroupAssignment.Assign([new RowGroupRef("a", 0, 5)], 3);
        Assert.Equal([1, 0, 0], shards.Select(s => s.Length));
    }
}
