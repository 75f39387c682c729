using DinCluster.Data.Importers;

namespace DinCluster.Data.Tests.Importers;

/// <summary>
/// The event-log protocol written the plain way (all in memory, LINQ), to check the streaming importers
/// against: per user, events by (timestamp, item, line); each event's history = earlier positives, the
/// most recent maxHistory; the split decides per event.
/// </summary>
public static class EventOracle
{
    public sealed record Event(long User, long Item, long Category, long Timestamp, int Label, long Line);

    public static (List<string> Train, List<string> Test) Samples(IEnumerable<Event> events, SplitSpec split, ulong seed, int maxHistory = 50)
    {
        var train = new List<string>();
        var test = new List<string>();
        foreach (var user in events.GroupBy(e => e.User).OrderBy(g => g.Key))
        {
            var ordered = user.OrderBy(e => e.Timestamp).ThenBy(e => e.Item).ThenBy(e => e.Line).ToList();
            for (var j = 0; j < ordered.Count; j++)
            {
                var e = ordered[j];
                var history = ordered.Take(j).Where(p => p.Label == 1).TakeLast(maxHistory).ToList();
                var row = new ImportedRow(e.User, e.Item, e.Category, history.Select(p => p.Item).ToArray(),
                    history.Select(p => p.Category).ToArray(), e.Label, e.Timestamp).ToString();
                var isTest = split switch
                {
                    SplitSpec.LastPerUser last => j >= ordered.Count - last.Count,
                    SplitSpec.Users u => SplitSpec.IsTestUser(e.User, seed, u.Fraction),
                    SplitSpec.Time t => e.Timestamp >= t.From,
                    _ => throw new ArgumentOutOfRangeException(nameof(split)),
                };
                (isTest ? test : train).Add(row);
            }
        }
        return (train, test);
    }
}
