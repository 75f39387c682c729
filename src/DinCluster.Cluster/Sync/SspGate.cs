namespace DinCluster.Cluster.Sync;

/// <summary>
/// Stale-synchronous parallel clocks (Ho et al., 2013), kept by the coordinator. A worker's clock
/// is its number of completed steps; a worker at clock c may start its next step while
/// c - min &lt;= K, min being the slowest active worker's clock. K = 0 is lock-step.
/// A worker with no batch in hand is set waiting and does not count towards min (else the
/// others would wait for a worker that has nothing to do, at the end of an epoch).
/// </summary>
public sealed class SspGate(int staleness)
{
    private readonly Dictionary<int, long> _clocks = [];
    private readonly HashSet<int> _waiting = [];

    public int Staleness { get; } = staleness >= 0 ? staleness : throw new ArgumentOutOfRangeException(nameof(staleness));

    /// <summary>The slowest active worker's clock; null when no worker is active (no bound).</summary>
    public long? MinClock
    {
        get
        {
            long? min = null;
            foreach (var (w, c) in _clocks)
                if (!_waiting.Contains(w) && (min is null || c < min)) min = c;
            return min;
        }
    }

    public void Join(int worker) => _clocks.TryAdd(worker, 0);

    public void Completed(int worker, long clock)
    {
        _clocks[worker] = clock;
        _waiting.Remove(worker);
    }

    public void Waiting(int worker, long clock)
    {
        _clocks[worker] = clock;
        _waiting.Add(worker);
    }

    public void Remove(int worker)
    {
        _clocks.Remove(worker);
        _waiting.Remove(worker);
    }

    /// <summary>Whether a worker at <paramref name="clock"/> may start a step, given the last min it heard.</summary>
    public static bool CanStart(long clock, long? minClock, int staleness) =>
        minClock is not { } min || clock - min <= staleness;
}
