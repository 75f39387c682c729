namespace DinCluster.Data;

/// <summary>
/// What readers skipped, by reason, and how many histories they cut to maxlen. Thread-safe: readers
/// on several threads may share one instance; per-shard instances can also be merged.
/// A row is counted once, under the first problem found in it. A whole file or row group skipped
/// counts its rows when the footer tells them (an unreadable file counts as a file only).
/// </summary>
public sealed class BadInputCounts
{
    private static readonly int ReasonCount = Enum.GetValues<BadInputReason>().Length;

    private readonly long[] _rows = new long[ReasonCount];
    private readonly long[] _rowGroups = new long[ReasonCount];
    private readonly long[] _files = new long[ReasonCount];
    private long _truncatedHistories;

    public long SkippedRows(BadInputReason reason) => Interlocked.Read(ref _rows[(int)reason]);
    public long SkippedRowGroups(BadInputReason reason) => Interlocked.Read(ref _rowGroups[(int)reason]);
    public long SkippedFiles(BadInputReason reason) => Interlocked.Read(ref _files[(int)reason]);

    public long TotalSkippedRows => Sum(_rows);
    public long TotalSkippedRowGroups => Sum(_rowGroups);
    public long TotalSkippedFiles => Sum(_files);

    /// <summary>Samples with at least one history longer than its maxlen (cut to the most recent maxlen; not an error).</summary>
    public long TruncatedHistories => Interlocked.Read(ref _truncatedHistories);

    public bool IsEmpty => TotalSkippedRows == 0 && TotalSkippedRowGroups == 0 && TotalSkippedFiles == 0 && TruncatedHistories == 0;

    public void AddRows(BadInputReason reason, long rows) => Interlocked.Add(ref _rows[(int)reason], rows);

    public void AddRowGroup(BadInputReason reason, long rows)
    {
        Interlocked.Increment(ref _rowGroups[(int)reason]);
        AddRows(reason, rows);
    }

    public void AddFile(BadInputReason reason, long rows)
    {
        Interlocked.Increment(ref _files[(int)reason]);
        AddRows(reason, rows);
    }

    public void AddTruncatedHistories(long samples) => Interlocked.Add(ref _truncatedHistories, samples);

    public void Merge(BadInputCounts other)
    {
        for (var r = 0; r < ReasonCount; r++)
        {
            Interlocked.Add(ref _rows[r], other.SkippedRows((BadInputReason)r));
            Interlocked.Add(ref _rowGroups[r], other.SkippedRowGroups((BadInputReason)r));
            Interlocked.Add(ref _files[r], other.SkippedFiles((BadInputReason)r));
        }
        AddTruncatedHistories(other.TruncatedHistories);
    }

    /// <summary>Per-reason arrays (index = <see cref="BadInputReason"/>) of rows, row groups and files, e.g. to send them.</summary>
    public (long[] Rows, long[] RowGroups, long[] Files) ToArrays()
    {
        var rows = new long[ReasonCount];
        var groups = new long[ReasonCount];
        var files = new long[ReasonCount];
        for (var r = 0; r < ReasonCount; r++)
        {
            rows[r] = Interlocked.Read(ref _rows[r]);
            groups[r] = Interlocked.Read(ref _rowGroups[r]);
            files[r] = Interlocked.Read(ref _files[r]);
        }
        return (rows, groups, files);
    }

    /// <summary>Adds counts made by <see cref="ToArrays"/> (possibly elsewhere); reasons beyond this build's are refused.</summary>
    public void Add(long[] rows, long[] rowGroups, long[] files, long truncatedHistories)
    {
        if (rows.Length > ReasonCount || rowGroups.Length > ReasonCount || files.Length > ReasonCount)
            throw new ArgumentException($"bad-input counts have more than the {ReasonCount} known reasons");
        for (var r = 0; r < rows.Length; r++) Interlocked.Add(ref _rows[r], rows[r]);
        for (var r = 0; r < rowGroups.Length; r++) Interlocked.Add(ref _rowGroups[r], rowGroups[r]);
        for (var r = 0; r < files.Length; r++) Interlocked.Add(ref _files[r], files[r]);
        AddTruncatedHistories(truncatedHistories);
    }

    /// <summary>A plain snapshot for summary.json; reasons with nothing skipped are left out.</summary>
    public BadInputSummary Snapshot()
    {
        Dictionary<string, long> Named(long[] counts)
        {
            var named = new Dictionary<string, long>(StringComparer.Ordinal);
            for (var r = 0; r < ReasonCount; r++)
            {
                var n = Interlocked.Read(ref counts[r]);
                if (n != 0) named[((BadInputReason)r).SnakeCase()] = n;
            }
            return named;
        }
        return new BadInputSummary(Named(_rows), Named(_rowGroups), Named(_files), TruncatedHistories);
    }

    public override string ToString()
    {
        var s = Snapshot();
        string Join(Dictionary<string, long> d) => d.Count == 0 ? "none" : string.Join(", ", d.Select(kv => $"{kv.Key} {kv.Value}"));
        return $"skipped rows: {Join(s.SkippedRows)}; row groups: {Join(s.SkippedRowGroups)}; files: {Join(s.SkippedFiles)}; truncated histories: {s.TruncatedHistories}";
    }

    private static long Sum(long[] counts)
    {
        long total = 0;
        for (var r = 0; r < counts.Length; r++) total += Interlocked.Read(ref counts[r]);
        return total;
    }
}

/// <summary>Counts by snake_case reason (<see cref="BadInputReasonNames.SnakeCase"/>).</summary>
public sealed record BadInputSummary(
    Dictionary<string, long> SkippedRows,
    Dictionary<string, long> SkippedRowGroups,
    Dictionary<string, long> SkippedFiles,
    long TruncatedHistories);
