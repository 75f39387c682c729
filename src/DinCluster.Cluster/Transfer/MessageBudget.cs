namespace DinCluster.Cluster.Transfer;

/// <summary>How many rows of a table fit in one message under the configured byte budget.</summary>
public static class MessageBudget
{
    /// <summary>Room for the record's fixed fields and the table name.</summary>
    private const int Overhead = 1024;

    public static int RowsPerMessage(int maxMessageBytes, int dim) =>
        Math.Max(1, (maxMessageBytes - Overhead) / (sizeof(long) + dim * sizeof(float)));

    /// <summary>[start, count) slices of <paramref name="total"/> items, at most <paramref name="per"/> each; one empty slice for 0.</summary>
    public static IEnumerable<(int Start, int Count)> Slices(int total, int per)
    {
        if (total == 0) yield return (0, 0);
        for (var start = 0; start < total; start += per) yield return (start, Math.Min(per, total - start));
    }
}
