using Akka.Actor;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Protocol;

namespace DinCluster.Cluster.Hosting;

/// <summary>
/// `dincluster node`: one process, one node, for one job. It ends when the coordinator dismisses it
/// at the end of the job, when the coordinator is gone (<see cref="CoordinatorWatch"/>), when it is
/// downed, when it cannot join its seeds (akka.cluster.shutdown-after-unsuccessful-join-seed-nodes),
/// or when it is cancelled (Ctrl-C, SIGTERM), leaving the cluster gracefully.
/// </summary>
public static class NodeHost
{
    /// <summary>
    /// Runs the node until its ActorSystem terminates: 0 when it had joined the cluster, 1 when it never did.
    /// A node the cluster downs (the minority side of a partition) starts a fresh ActorSystem on the same
    /// address and joins its seeds again, as a new member, when dincluster.node.rejoin-when-downed is on.
    /// <code>
    ///   start --joined--> member --dismissed / coordinator gone / cancelled--> exit 0
    ///     |                 |--downed (ClusterDowningReason)--> restart (new incarnation) --> start
    ///     '--seeds never answered--> exit 1 (after a downing: "could not rejoin")
    /// </code>
    /// </summary>
    public static async Task<int> Run(NodeOptions options, TextWriter log, CancellationToken ct = default)
    {
        if (options.Roles.Contains(NodeRole.Coordinator))
            throw new ArgumentException("the coordinator runs with the job: use `dincluster train --seeds ...` (ClusterRunner.RunCoordinator)", nameof(options));
        var settings = Settings(options);
        var roles = string.Join(", ", options.Roles.Select(RoleNames.Of));
        var seeds = string.Join(", ", settings.Seeds);
        for (var incarnation = 1; ; incarnation++)
        {
            var node = ClusterNode.Start(settings, options.Roles, null, Threads(options));
            var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Akka.Cluster.Cluster.Get(node.System).RegisterOnMemberUp(() => joined.TrySetResult());
            node.System.ActorOf(CoordinatorWatch.Props(), "coordinator-watch");
            var uid = Akka.Cluster.Cluster.Get(node.System).SelfUniqueAddress.Uid;
            log.WriteLine(incarnation == 1
                ? $"node {node.Address} up with roles {roles}; seeds {seeds}"
                : $"node {node.Address} restarted (incarnation {incarnation}, uid {uid}) with roles {roles}; joining seeds {seeds} as a new member");
            await using (ct.Register(() => _ = CoordinatedShutdown.Get(node.System).Run(CoordinatedShutdown.ClrExitReason.Instance)))
                await node.System.WhenTerminated;
            var reason = CoordinatedShutdown.Get(node.System).ShutdownReason;
            if (!joined.Task.IsCompleted)
            {
                log.WriteLine(incarnation == 1
                    ? $"node {node.Address} never joined the cluster (seeds {seeds})"
                    : $"node {node.Address} was downed and could not rejoin the cluster (seeds {seeds} did not answer)");
                return 1;
            }
            if (reason is CoordinatedShutdown.ClusterDowningReason && !ct.IsCancellationRequested)
            {
                if (settings.RejoinWhenDowned)
                {
                    log.WriteLine($"node {node.Address} (uid {uid}) was downed by the cluster; restarting its ActorSystem to rejoin (dincluster.node.rejoin-when-downed = on)");
                    continue;
                }
                log.WriteLine($"node {node.Address} was downed by the cluster; exiting (dincluster.node.rejoin-when-downed = off)");
                return 0;
            }
            log.WriteLine($"node {node.Address} left the cluster (shutdown reason: {reason?.GetType().Name ?? "none"})");
            return 0;
        }
    }

    /// <summary>cluster-config for the node's deployment, with its address, seeds and roles; validated.</summary>
    public static ClusterSettings Settings(NodeOptions options)
    {
        var settings = ClusterSettings.Create(ClusterConfigFiles.Load(options.Deployment, options.ConfigPath));
        var node = settings.ForNode(options.Hostname ?? settings.Hostname, options.Port, options.Seeds, options.Roles);
        return options.Tls is { } tls ? node.WithTls(tls.Certificate, tls.Password, tls.Ca) : node;
    }

    internal static WorkerThreads Threads(NodeOptions options) =>
        new(options.TorchThreads, options.Roles.Count(r => r == NodeRole.Worker));
}
