using Akka.Actor;
using Akka.Cluster;
using DinCluster.Cluster.Protocol;

namespace DinCluster.Cluster.Actors;

/// <summary>
/// A member's (worker, PS, data shard) tie to the coordinator singleton, for a coordinator takeover
/// (a standby `train --standby` process hosts the singleton once the active coordinator's node is removed).
/// The member watches the coordinator that assigned it; when that one is gone it announces itself again
/// (<see cref="JoinTraining"/>) through the node's singleton proxy, which finds the new singleton and buffers
/// until then. The announcement is repeated a few times: the proxy learns of the removal from the same
/// cluster event as the member, so the first one may still be forwarded to the lost singleton.
/// <code>
///   assigned(C) --Terminated(C)--> rejoining: JoinTraining now and every 2 s, at most 4 times --assigned(C')--> assigned(C')
/// </code>
/// </summary>
internal sealed class CoordinatorLink(IActorRef proxy, NodeRole role)
{
    private const int Attempts = 4;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private int _left;

    /// <summary>The coordinator that assigned this member (Nobody before the first assignment and after a loss).</summary>
    public IActorRef Current { get; private set; } = ActorRefs.Nobody;

    /// <summary>Whether this member was ever assigned (so a new assignment may be a takeover).</summary>
    public bool WasAssigned { get; private set; }

    /// <summary>The first announcement, from PreStart.</summary>
    public void Join() => proxy.Tell(new JoinTraining(role));

    /// <summary>
    /// <paramref name="coordinator"/> assigned this member. True when it is another coordinator than the one
    /// before (a takeover: the member must drop what it holds for the old one).
    /// </summary>
    public bool Assigned(IActorContext context, ITimerScheduler timers, IActorRef coordinator)
    {
        timers.Cancel(RejoinTick.Instance);
        if (Current.Equals(coordinator)) return false;
        var takeover = WasAssigned;
        if (!Current.IsNobody()) context.Unwatch(Current);
        Current = coordinator;
        WasAssigned = true;
        context.Watch(coordinator);
        return takeover;
    }

    /// <summary>
    /// <paramref name="actor"/> terminated. <see cref="LinkLoss.Lost"/> when it is the coordinator and this node stays:
    /// the member announces itself again; <see cref="LinkLoss.NodeLeaving"/> when this node is leaving the cluster
    /// itself (the end of a job: every remote actor looks terminated then); else <see cref="LinkLoss.NotCoordinator"/>.
    /// </summary>
    public LinkLoss Lost(IActorContext context, ITimerScheduler timers, IActorRef actor)
    {
        if (Current.IsNobody() || !Current.Equals(actor)) return LinkLoss.NotCoordinator;
        Current = ActorRefs.Nobody;
        if (NodeLeaving(context.System)) return LinkLoss.NodeLeaving;
        Join();
        _left = Attempts - 1;
        timers.StartPeriodicTimer(RejoinTick.Instance, RejoinTick.Instance, Interval);
        return LinkLoss.Lost;
    }

    private static bool NodeLeaving(ActorSystem system)
    {
        // Actor tests run members without a cluster.
        if (((ExtendedActorSystem)system).Provider is not Akka.Cluster.ClusterActorRefProvider) return false;
        var cluster = Akka.Cluster.Cluster.Get(system);
        return cluster.IsTerminated || cluster.SelfMember.Status is not (MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining);
    }

    /// <summary>A repeated announcement while no new coordinator assigned this member.</summary>
    public void Tick(ITimerScheduler timers)
    {
        if (!Current.IsNobody() || _left <= 0)
        {
            timers.Cancel(RejoinTick.Instance);
            return;
        }
        _left--;
        Join();
    }
}

/// <summary>What a member's Terminated meant for its coordinator link.</summary>
internal enum LinkLoss { NotCoordinator, Lost, NodeLeaving }

/// <summary>Timer message of <see cref="CoordinatorLink"/> (local only).</summary>
internal sealed record RejoinTick
{
    public static readonly RejoinTick Instance = new();
}
