namespace DinCluster.Data;

/// <summary>
/// One behaviour-log row in plain objects, for importers, the generator and tests (the reader
/// never builds these). Histories are oldest first. Features of the feature schema beyond the
/// default columns are looked up by name in <see cref="Sparse"/>, <see cref="Dense"/> and <see cref="VarLen"/>.
/// </summary>
public sealed record Sample(
    long UserId,
    long ItemId,
    long CategoryId,
    long[] HistItems,
    long[] HistCategories,
    int Label,
    long? Timestamp = null)
{
    public IReadOnlyDictionary<string, long>? Sparse { get; init; }
    public IReadOnlyDictionary<string, float[]>? Dense { get; init; }
    public IReadOnlyDictionary<string, long[]>? VarLen { get; init; }
}
