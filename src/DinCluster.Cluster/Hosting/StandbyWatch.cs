using Akka.Actor;
using Akka.Cluster;
using DinCluster.Cluster.Actors;
using DinCluster.Cluster.Configuration;

namespace DinCluster.Cluster.Hosting;

/// <summary>
/// On a standby coordinator node: records in the <see cref="StandbyLog"/> when another coordinator member
/// became unreachable and when it was removed, so the coordinator that starts here after a takeover can say
/// when the old one was lost (its own subscription starts only then).
/// </summary>
internal sealed class StandbyWatch : ReceiveActor
{
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);

    public StandbyWatch(StandbyLog log)
    {
        Receive<ClusterEvent.UnreachableMember>(m =>
        {
            if (IsOtherCoordinator(m.Member)) log.Unreachable(m.Member.Address, DateTime.UtcNow);
        });
        Receive<ClusterEvent.ReachableMember>(m => log.Reachable(m.Member.Address));
        Receive<ClusterEvent.MemberRemoved>(m =>
        {
            if (IsOtherCoordinator(m.Member)) log.Removed(m.Member.Address, DateTime.UtcNow);
        });
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
    }

    public static Props Props(StandbyLog log) => Akka.Actor.Props.Create(() => new StandbyWatch(log));

    private bool IsOtherCoordinator(Member member) => member.HasRole(RoleNames.Coordinator) && !member.UniqueAddress.Equals(_cluster.SelfUniqueAddress);

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop() => _cluster.Unsubscribe(Self);
}
