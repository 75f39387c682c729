using Akka.Actor;
using ClusterSettings = DinCluster.Cluster.Configuration.ClusterSettings;
using Akka.Cluster.Tools.Singleton;
using DinCluster.Cluster.Actors;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Observability;
using DinCluster.Cluster.Protocol;

namespace DinCluster.Cluster.Hosting;

/// <summary>
/// One ActorSystem in the cluster with its role actors: the coordinator singleton's manager
/// (coordinator role), a proxy to it (every node), and one actor per listed role instance.
/// <code>
///   /user/coordinator          ClusterSingletonManager -> TrainingCoordinator (coordinator role only)
///   /user/coordinator-proxy    ClusterSingletonProxy (every node)
///   /user/status               NodeStatusActor: what `dincluster status` asks (every node)
///   /user/worker-0, ps-0, data-0, ...
/// </code>
/// </summary>
public sealed class ClusterNode : IAsyncDisposable
{
    private ClusterNode(ActorSystem system) => System = system;

    public ActorSystem System { get; }

    public Address Address => Akka.Cluster.Cluster.Get(System).SelfAddress;

    /// <summary>
    /// Starts the node and its actors; joins the configured seeds, or itself when there are none.
    /// <paramref name="coordinator"/> is required when <paramref name="roles"/> holds the coordinator role.
    /// </summary>
    public static ClusterNode Start(ClusterSettings settings, IReadOnlyList<NodeRole> roles, CoordinatorSetup? coordinator, WorkerThreads threads)
    {
        var bootstrap = BootstrapSetup.Create().WithConfig(settings.ToAkkaConfig()).And(ShutdownNoiseFilter.Setup);
        if (settings.Tls.Enabled) bootstrap = bootstrap.And(TlsSetup.Create(settings.Tls));
        var system = ActorSystem.Create(settings.SystemName, bootstrap);
        var node = new ClusterNode(system);
        var cluster = Akka.Cluster.Cluster.Get(system);
        if (settings.Seeds.Count == 0) cluster.Join(cluster.SelfAddress);

        if (roles.Contains(NodeRole.Coordinator))
        {
            var setup = coordinator ?? throw new ArgumentException("a coordinator node needs the job (CoordinatorSetup)", nameof(coordinator));
            system.ActorOf(ClusterSingletonManager.Props(
                TrainingCoordinator.Props(setup), PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole(RoleNames.Coordinator)), "coordinator");
        }
        var proxy = system.ActorOf(ClusterSingletonProxy.Props("/user/coordinator",
            ClusterSingletonProxySettings.Create(system).WithRole(RoleNames.Coordinator)), "coordinator-proxy");
        system.ActorOf(NodeStatusActor.Props(proxy), "status");

        var counts = new Dictionary<NodeRole, int>();
        foreach (var role in roles.Where(r => r != NodeRole.Coordinator))
        {
            var k = counts[role] = counts.GetValueOrDefault(role) + 1;
            var name = $"{RoleNames.Of(role)}-{k - 1}";
            system.ActorOf(role switch
            {
                NodeRole.Worker => WorkerActor.Props(proxy, threads),
                NodeRole.ParameterServer => ParameterServerActor.Props(proxy),
                NodeRole.DataShard => DataShardActor.Props(proxy).WithDispatcher(ClusterSettings.DataDispatcher),
                _ => throw new ArgumentOutOfRangeException(nameof(roles), role, null),
            }, name);
        }
        return node;
    }

    /// <summary>Leaves the cluster gracefully and terminates the system.</summary>
    public async ValueTask DisposeAsync()
    {
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance);
        await System.WhenTerminated;
    }
}
