using DinCluster.Core.Batches;

namespace DinCluster.Data.Tests;

/// <summary>Random default-schema samples from a printed seed, and batch-to-row helpers for assertions.</summary>
public static class Samples
{
    public static List<Sample> Random(int count, int seed, int maxHistory = 12, Action<string>? log = null)
    {
        log?.Invoke($"samples seed {seed}");
        var rng = new Random(seed);
        var samples = new List<Sample>(count);
        for (var i = 0; i < count; i++)
        {
            var length = i % 5 == 0 ? 0 : rng.Next(maxHistory + 1);   // every fifth history empty
            var items = new long[length];
            var categories = new long[length];
            for (var t = 0; t < length; t++)
            {
                items[t] = rng.NextInt64(-1_000_000, 1_000_000);   // ids are arbitrary int64, negatives included
                categories[t] = rng.Next(50);
            }
            samples.Add(new Sample(rng.Next(1000), rng.NextInt64(), rng.Next(50), items, categories, rng.Next(2), 1_700_000_000 + i));
        }
        return samples;
    }

    /// <summary>Row i of a batch as (user, item, category, hist items, hist categories, label) for comparisons.</summary>
    public static (long User, long Item, long Category, long[] HistItems, long[] HistCategories, int Label) Row(Batch b, int i)
    {
        long[] History(int v)
        {
            var offset = b.Lengths[v].Take(i).Sum();
            return b.Values[v].AsSpan(offset, b.Lengths[v][i]).ToArray();
        }
        return (b.Sparse[0][i], b.Sparse[1][i], b.Sparse[2][i], History(0), History(1), (int)b.Labels[i]);
    }

    public static void AssertSame(Sample expected, Batch b, int i)
    {
        var row = Row(b, i);
        Assert.Equal(expected.UserId, row.User);
        Assert.Equal(expected.ItemId, row.Item);
        Assert.Equal(expected.CategoryId, row.Category);
        Assert.Equal(expected.HistItems, row.HistItems);
        Assert.Equal(expected.HistCategories, row.HistCategories);
        Assert.Equal(expected.Label, row.Label);
    }
}
