namespace DinCluster.Data.Importers;

/// <summary>What every importer shares (`dincluster import KIND ... --out DIR`); see Importers/README.md.</summary>
public sealed record ImportOptions
{
    /// <summary>DIR: train/, test/, import.json (and vocab/ for string ids) are written here.</summary>
    public required string OutDir { get; init; }

    /// <summary>Null: the importer's default (samples/csv/amazon last-per-user:1, movielens users:0.1).</summary>
    public SplitSpec? Split { get; init; }

    /// <summary>Seeds the users split, Amazon's negatives and the shuffle of train rows.</summary>
    public ulong Seed { get; init; } = 1;

    public BadInputPolicy OnBadInput { get; init; } = BadInputPolicy.Fail;

    /// <summary>Most recent ids kept per history. Null: 50 for importers that build histories, unlimited
    /// (as given) for `import samples`. 0 also means unlimited.</summary>
    public int? MaxHistory { get; init; }

    public int RowGroupSize { get; init; } = BehaviourLogWriter.DefaultRowGroupSize;

    /// <summary>A new part file every this many rows.</summary>
    public long RowsPerFile { get; init; } = 1_000_000;

    /// <summary>Memory the per-user partitions may take (0: a quarter of what the GC may use, at most 1 GiB).</summary>
    public long MemoryBudgetBytes { get; init; }

    /// <summary>Shuffle the train rows within each partition (the original DIN code shuffles its train set);
    /// test rows stay in (user, time) order.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Replace train/ and test/ Parquet files already in DIR instead of refusing.</summary>
    public bool Overwrite { get; init; }

    public void Validate()
    {
        static void Must(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Must(!string.IsNullOrWhiteSpace(OutDir), "the output folder is not set");
        Must(MaxHistory is null or >= 0, $"max history is set to {MaxHistory}, must be >= 0");
        Must(RowGroupSize >= 1, $"row group size is set to {RowGroupSize}, must be >= 1");
        Must(RowsPerFile >= 1, $"rows per file is set to {RowsPerFile}, must be >= 1");
        Must(MemoryBudgetBytes >= 0, $"memory budget is set to {MemoryBudgetBytes}, must be >= 0");
    }

    internal long ResolveBudget() =>
        MemoryBudgetBytes > 0 ? MemoryBudgetBytes : Math.Min(1L << 30, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4);
}
