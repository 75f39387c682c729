namespace DinCluster.Data;

/// <summary>
/// Size and seed of a synthetic dataset (`dincluster generate`). The defaults make ~200k train and
/// ~20k test samples: a few minutes of training on 2 cores.
/// </summary>
public sealed record SyntheticSettings
{
    public int Users { get; init; } = 10_000;
    public int Items { get; init; } = 20_000;
    public int Categories { get; init; } = 100;

    /// <summary>Train plus test samples.</summary>
    public int Samples { get; init; } = 220_000;

    public ulong Seed { get; init; } = 42;

    /// <summary>Longest history written (most recent behaviours kept); the default schema's maxlen.</summary>
    public int HistoryMax { get; init; } = 50;

    /// <summary>The last fraction of the timeline becomes the test set (train on the past, test on the future).</summary>
    public double TestFraction { get; init; } = 0.1;

    public int RowGroupSize { get; init; } = BehaviourLogWriter.DefaultRowGroupSize;

    /// <summary>Rows per part-*.parquet file, so several data shards get files of their own.</summary>
    public int RowsPerFile { get; init; } = 50_000;

    /// <summary>Throws "X is set to ..., must be ..." for the first setting out of range.</summary>
    public void Validate()
    {
        static void Require(bool ok, string name, object value, string must)
        {
            if (!ok) throw new ArgumentException($"{name} is set to {value}, must be {must}");
        }
        Require(Users > 0, nameof(Users), Users, "> 0");
        Require(Categories > 0, nameof(Categories), Categories, "> 0");
        Require(Items >= Categories, nameof(Items), Items, $">= {nameof(Categories)} ({Categories}), so every category has an item");
        Require(Samples > 0, nameof(Samples), Samples, "> 0");
        Require(HistoryMax > 0, nameof(HistoryMax), HistoryMax, "> 0");
        Require(TestFraction is > 0 and < 1, nameof(TestFraction), TestFraction, "in (0, 1)");
        Require(TestSamples > 0 && TrainSamples > 0, nameof(TestFraction), TestFraction, $"such that train and test are both non-empty (of {Samples} samples)");
        Require(RowGroupSize > 0, nameof(RowGroupSize), RowGroupSize, "> 0");
        Require(RowsPerFile > 0, nameof(RowsPerFile), RowsPerFile, "> 0");
    }

    public int TestSamples => (int)Math.Round(Samples * TestFraction);
    public int TrainSamples => Samples - TestSamples;
}
