namespace DinCluster.Data;

/// <summary>
/// Input that cannot be used, located as precisely as known:
/// "data/train/part-0.parquet: row group 2, row 113: label is 7, must be 0 or 1".
/// Row groups and rows are 0-based; a row is counted within its row group.
/// </summary>
public sealed class BadInputException : Exception
{
    public string File { get; }
    public int? RowGroup { get; }
    public long? Row { get; }
    public BadInputReason Reason { get; }

    /// <summary>The message without its location, e.g. "label is 7, must be 0 or 1".</summary>
    public string Detail { get; }

    public BadInputException(string file, int? rowGroup, long? row, BadInputReason reason, string detail, Exception? inner = null)
        : base(Format(file, rowGroup, row, detail), inner)
    {
        File = file;
        RowGroup = rowGroup;
        Row = row;
        Reason = reason;
        Detail = detail;
    }

    private static string Format(string file, int? rowGroup, long? row, string detail) =>
        (rowGroup, row) switch
        {
            (null, _) => $"{file}: {detail}",
            (_, null) => $"{file}: row group {rowGroup}: {detail}",
            _ => $"{file}: row group {rowGroup}, row {row}: {detail}",
        };
}
