using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using DinCluster.Cluster.Configuration;

namespace DinCluster.Cluster.Hosting;

/// <summary>
/// On a `dincluster node`: leaves the cluster (and so ends the process) once the last coordinator
/// member it saw is exiting or removed. The coordinator normally dismisses every node itself at the
/// end of a job (<see cref="NodeDismissal"/>); this covers a coordinator that crashed and was downed,
/// or one stopped by a signal.
/// </summary>
internal sealed class CoordinatorWatch : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly HashSet<UniqueAddress> _coordinators = [];
    private bool _leaving;

    public CoordinatorWatch()
    {
        Receive<ClusterEvent.MemberUp>(m =>
        {
            if (m.Member.HasRole(RoleNames.Coordinator)) _coordinators.Add(m.Member.UniqueAddress);
        });
        Receive<ClusterEvent.MemberExited>(m => Gone(m.Member));
        Receive<ClusterEvent.MemberRemoved>(m => Gone(m.Member));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new CoordinatorWatch());

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void Gone(Member member)
    {
        if (!_coordinators.Remove(member.UniqueAddress) || _coordinators.Count > 0 || _leaving) return;
        // This node was downed (the minority side of a partition): its cluster has shut down and reports every
        // member removed. The cluster runs the shutdown itself, with ClusterDowningReason, which NodeHost
        // reads to restart and rejoin; a ClusterLeavingReason from here first would turn that into an exit.
        if (_cluster.IsTerminated || _cluster.SelfMember.Status is MemberStatus.Down or MemberStatus.Removed) return;
        _leaving = true;
        _log.Info("coordinator {0} left the cluster ({1}); this node leaves too", member.Address, member.Status);
        _ = CoordinatedShutdown.Get(Context.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
    }
}
