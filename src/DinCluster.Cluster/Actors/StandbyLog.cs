using Akka.Actor;

namespace DinCluster.Cluster.Actors;

/// <summary>
/// On a standby coordinator node (`train --seeds ... --standby`): what the node saw of the active coordinator
/// before the singleton moved here (written by <c>Hosting.StandbyWatch</c>), and whether it did (read by the
/// runner). Thread-safe: the watch actor writes, the coordinator actor and the runner read.
/// </summary>
public sealed class StandbyLog
{
    private readonly object _gate = new();
    private readonly Dictionary<Address, DateTime> _unreachable = [];
    private LostCoordinator? _last;
    private bool _tookOver;

    /// <summary>When this standby process started: a summary.json written after it is of this job.</summary>
    public DateTime StartedUtc { get; } = DateTime.UtcNow;

    /// <summary>The singleton started on this node (it runs the job from now on).</summary>
    public bool TookOver
    {
        get { lock (_gate) return _tookOver; }
        set { lock (_gate) _tookOver = value; }
    }

    /// <summary>The last coordinator member that was removed while this node watched (null: none yet).</summary>
    public LostCoordinator? Last
    {
        get { lock (_gate) return _last; }
    }

    public void Unreachable(Address node, DateTime atUtc)
    {
        lock (_gate) _unreachable.TryAdd(node, atUtc);
    }

    public void Reachable(Address node)
    {
        lock (_gate) _unreachable.Remove(node);
    }

    public void Removed(Address node, DateTime atUtc)
    {
        lock (_gate)
        {
            _last = new LostCoordinator(node, _unreachable.TryGetValue(node, out var since) ? since : null, atUtc);
            _unreachable.Remove(node);
        }
    }
}

/// <summary>A coordinator member that left the cluster: when its node was flagged unreachable (null: never) and removed.</summary>
public sealed record LostCoordinator(Address Node, DateTime? UnreachableUtc, DateTime RemovedUtc);
