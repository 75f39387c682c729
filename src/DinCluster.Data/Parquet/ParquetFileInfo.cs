namespace DinCluster.Data;

/// <summary>A behaviour-log file's shape from its footer: rows per row group (0-based row groups).</summary>
public sealed record ParquetFileInfo(string Path, IReadOnlyList<long> RowGroupRows)
{
    public int RowGroupCount => RowGroupRows.Count;
    public long Rows { get; } = RowGroupRows.Sum();

    /// <summary>False when the file has no label column (allowed only by a reader that does not require one).</summary>
    public bool HasLabel { get; init; } = true;
}
