namespace DinCluster.Core.Batches;

/// <summary>
/// Embedding rows (or their gradients) for a list of ids of one table: Values holds
/// Ids.Length rows of Dim floats, row r belonging to Ids[r]. ps-lite's KVPairs shape.
/// </summary>
public sealed record TableRows(string Table, int Dim, long[] Ids, float[] Values)
{
    public Span<float> Row(int r) => Values.AsSpan(r * Dim, Dim);
}
