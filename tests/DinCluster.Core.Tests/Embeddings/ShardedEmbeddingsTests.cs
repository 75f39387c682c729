using DinCluster.Core.Embeddings;
using DinCluster.Core.Optimizers;
using Xunit.Abstractions;

namespace DinCluster.Core.Tests.Embeddings;

public sealed class ShardedEmbeddingsTests(ITestOutputHelper output)
{
    internal static readonly (string Name, int Dim)[] Tables = [("user", 4), ("item", 16), ("category", 9)];

    /// <summary>A reproducible stream of pushes over all tables: skewed ids, occurrence counts,
    /// carried step numbers, an occasional NaN push and re-delivered batch.</summary>
    internal static IEnumerable<(string Table, long[] Ids, float[] Grads, int[] Counts, long BatchId)> Pushes(int seed, int count)
    {
        var rng = new Random(seed);
        for (var b = 0; b < count; b++)
        {
            var batchId = rng.Next(10) == 0 && b > 0 ? b - 1 : b; // ~10% re-delivered
            foreach (var (table, dim) in Tables)
            {
                var ids = Enumerable.Range(0, rng.Next(1, 40))
                    .Select(_ => (long)Math.Floor(Math.Pow(rng.NextDouble(), 3) * 500) - 100)
                    .Distinct().ToArray();
                var grads = Enumerable.Range(0, ids.Length * dim).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
                if (rng.Next(25) == 0) grads[rng.Next(grads.Length)] = float.NaN;
                var counts = ids.Select(_ => rng.Next(1, 4)).ToArray();
                yield return (table, ids, grads, counts, batchId);
            }
        }
    }

    [Theory]
    [InlineData("sgd:lr=0.1")]
    [InlineData("adagrad")]
    [InlineData("adam:lr=0.01")]
    [InlineData("ftrl:alpha=0.1,l1=0.001,l2=0.01")]
    public void Four_shards_give_bit_identical_rows_to_one_shard_when_given_the_same_pushes(string optimizer)
    {
        const int seed = 2024;
        output.WriteLine($"seed {seed}, optimizer {optimizer}");
        var settings = new EmbeddingSettings { Seed = 7, Optimizer = SparseOptimizerSettings.Parse(optimizer), MbaLambda = 0.05f, TtlSteps = 30 };
        var one = new ShardedEmbeddings(Tables, 1, settings);
        var four = new ShardedEmbeddings(Tables, 4, settings);
        foreach (var (table, ids, grads, counts, batchId) in Pushes(seed, 150))
            Assert.Equal(one.Push(table, ids, grads, batchId, counts), four.Push(table, ids, grads, batchId, counts));

        var all = Enumerable.Range(-100, 500).Select(i => (long)i).ToArray();
        foreach (var (table, dim) in Tables)
        {
            var a = new float[all.Length * dim];
            var b = new float[all.Length * dim];
            one.Pull(table, all, a);
            four.Pull(table, all, b);
            Assert.Equal(a.Select(BitConverter.SingleToInt32Bits), b.Select(BitConverter.SingleToInt32Bits));
            foreach (var id in all) AssertSameRow(one.ReadRow(table, id), four.ReadRow(table, id));
        }
        Assert.Equal(one.Stats().Sum(s => s.Rows), four.Stats().Sum(s => s.Rows));
        Assert.True(four.Stats().All(s => s.Rows > 0), "every shard holds rows");
        Assert.Equal(one.Stats()[0].NonFinitePushesRejected, four.Stats()[3].NonFinitePushesRejected);
        output.WriteLine($"rows {one.Stats()[0].Rows}, evicted {one.Stats()[0].Evicted}, duplicates {one.Stats()[0].DuplicatePushesIgnored}, NaN {one.Stats()[0].NonFinitePushesRejected}");
    }

    internal static void AssertSameRow(RowState? expected, RowState? actual)
    {
        Assert.Equal(expected is null, actual is null);
        if (expected is null || actual is null) return;
        Assert.Equal(expected.Weights.Select(BitConverter.SingleToInt32Bits), actual.Weights.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(expected.Slots.Length, actual.Slots.Length);
        for (var s = 0; s < expected.Slots.Length; s++)
            Assert.Equal(expected.Slots[s].Select(BitConverter.SingleToInt32Bits), actual.Slots[s].Select(BitConverter.SingleToInt32Bits));
        Assert.Equal((expected.Id, expected.Count, expected.Updates, expected.LastStep), (actual.Id, actual.Count, actual.Updates, actual.LastStep));
    }

    [Fact]
    public void Push_is_rejected_on_every_shard_when_one_shards_rows_hold_a_nan()
    {
        var sharded = new ShardedEmbeddings(Tables, 4, new EmbeddingSettings());
        var ids = Enumerable.Range(0, 64).Select(i => (long)i).ToArray();
        var grads = new float[ids.Length * 4];
        grads[^1] = float.NaN;
        Assert.Equal(PushStatus.RejectedNonFinite, sharded.Push("user", ids, grads, batchId: 1).Status);
        Assert.All(sharded.Stats(), s => Assert.Equal((0L, 1L), (s.Rows, s.NonFinitePushesRejected)));
    }
}
