namespace DinCluster.Data.Importers;

/// <summary>
/// One behaviour of an event log as it is partitioned on disk (48 bytes). <paramref name="Line"/> is the
/// input line number: the last tie-breaker of the (timestamp, item) order, so re-ratings of one item at one
/// second still sort the same way every time. Label 1 = positive (it enters later histories).
/// </summary>
internal readonly record struct EventRecord(long User, long Item, long Category, long Timestamp, long Line, int Label) : ISpillRecord
{
    public int TrailingLongs => 0;
}

/// <summary>A user's events in time order: user, timestamp, item, line.</summary>
internal sealed class EventOrder : IComparer<EventRecord>
{
    public static readonly EventOrder Instance = new();

    public int Compare(EventRecord a, EventRecord b)
    {
        var c = a.User.CompareTo(b.User);
        if (c != 0) return c;
        c = a.Timestamp.CompareTo(b.Timestamp);
        if (c != 0) return c;
        c = a.Item.CompareTo(b.Item);
        return c != 0 ? c : a.Line.CompareTo(b.Line);
    }
}
