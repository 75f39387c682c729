using Akka.Actor;
using Akka.Cluster;
using DinCluster.Cluster.Protocol;

namespace DinCluster.Cluster.Actors;

/// <summary>
/// A member's (worker, PS, data shard) tie to the coordinator singleton, for a coordinator takeover
/// (a standby `train --standby` process hosts the singleton once the active coordinator's node is removed).
/// The member announces itself (<see cref="JoinTraining"/>) through its node's singleton proxy, and again every
/// 3 s for as long as no coordinator has assigned it: the first announcement may reach a coordinator that is lost
/// before it assigns anyone (or, after a loss, the lost one: the proxy learns of the removal from the same cluster
/// event as the member). Once assigned, the member watches that coordinator; when it is gone, the member
/// announces itself again until the next coordinator assigns it.
/// <code>
///   unassigned: JoinTraining now and every 3 s --assigned(C)--> assigned(C) --Terminated(C)--> unassigned
/// </code>
/// A member that is never assigned (beyond the job's shape) keeps announcing itself; the coordinator keeps PS
/// members as spares and logs the others once.
/// </summary>
internal sealed class CoordinatorLink(IActorRef proxy, NodeRole role)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);

    /// <summary>The coordinator that assigned this member (Nobody before the first assignment and after a loss).</summary>
    public IActorRef Current { get; private set; } = ActorRefs.Nobody;

    /// <summary>Whether this member was ever assigned (so a new assignment may be a takeover).</summary>
    public bool WasAssigned { get; private set; }

    /// <summary>Announces this member now and every few seconds until a coordinator assigns it (PreStart, and after a loss).</summary>
    public void Join(ITimerScheduler timers)
    {
        proxy.Tell(new JoinTraining(role));
        timers.StartPeriodicTimer(RejoinTick.Instance, RejoinTick.Instance, Interval);
    }

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
        Join(timers);
        return LinkLoss.Lost;
    }

    private static bool NodeLeaving(ActorSystem system)
    {
        // Actor tests run members without a cluster.
        if (((ExtendedActorSystem)system).Provider is not Akka.Cluster.ClusterActorRefProvider) return false;
        var cluster = Akka.Cluster.Cluster.Get(system);
        return cluster.IsTerminated || cluster.SelfMember.Status is not (MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining);
    }

    /// <summary>The periodic announcement while no coordinator has assigned this member.</summary>
    public void Tick(ITimerScheduler timers)
    {
        if (Current.IsNobody()) proxy.Tell(new JoinTraining(role));
        else timers.Cancel(RejoinTick.Instance);
    }
}

/// <summary>What a member's Terminated meant for its coordinator link.</summary>
internal enum LinkLoss { NotCoordinator, Lost, NodeLeaving }

/// <summary>Timer message of <see cref="CoordinatorLink"/> (local only).</summary>
internal sealed record RejoinTick
{
    public static readonly RejoinTick Instance = new();
}
