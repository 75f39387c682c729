using Akka.Actor;
using Akka.Cluster;
using DinCluster.Cluster.Protocol;

namespace DinCluster.Cluster.Observability;

/// <summary>
/// /user/status on every node, what `dincluster status` talks to: answers
/// <see cref="GetClusterStatus"/> from this node's view of the cluster, and forwards
/// <see cref="GetJobProgress"/> to the coordinator singleton through the node's proxy (the
/// coordinator replies to the asker directly).
/// </summary>
public sealed class NodeStatusActor : ReceiveActor
{
    public NodeStatusActor(IActorRef coordinatorProxy)
    {
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        Receive<GetClusterStatus>(_ => Sender.Tell(Snapshot(cluster.State, cluster.SelfAddress)));
        Receive<GetJobProgress>(m => coordinatorProxy.Forward(m));
    }

    public static Props Props(IActorRef coordinatorProxy) => Akka.Actor.Props.Create(() => new NodeStatusActor(coordinatorProxy));

    /// <summary>Members sorted by address; unreachable as this node's failure detector says.</summary>
    public static ClusterStatus Snapshot(ClusterEvent.CurrentClusterState state, Address self)
    {
        static string HostPort(Address a) => $"{a.Host}:{a.Port}";
        var unreachable = state.Unreachable.Select(m => m.UniqueAddress).ToHashSet();
        var members = state.Members
            .Select(m => new MemberView(HostPort(m.Address), string.Join(',', m.Roles.Order(StringComparer.Ordinal)),
                m.Status.ToString().ToLowerInvariant(), !unreachable.Contains(m.UniqueAddress)))
            .OrderBy(m => m.Address, StringComparer.Ordinal)
            .ToArray();
        return new ClusterStatus(HostPort(self), state.Leader is { } leader ? HostPort(leader) : "", members);
    }
}
