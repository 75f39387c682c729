namespace DinCluster.Data;

/// <summary>A behaviour-log file's shape from its footer: rows per row group (0-based row groups).</summary>
public sealed record ParquetFileInfo(string Path, IReadOnlyList<long> RowGroupRows)
{
    public int RowGroupCount => RowGroupRows.Count;
    public long Rows { get; } = RowGroupRows.Sum();
}
