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
    /// <summary>Runs the node until its ActorSystem terminates: 0 when it had joined the cluster, 1 when it never did.</summary>
    public static async Task<int> Run(NodeOptions options, TextWriter log, CancellationToken ct = default)
    {
        if (options.Roles.Contains(NodeRole.Coordinator))
            throw new ArgumentException("the coordinator runs with the job: use `dincluster train --seeds ...` (ClusterRunner.RunCoordinator)", nameof(options));
        var settings = Settings(options);
        var node = ClusterNode.Start(settings, options.Roles, null, TorchThreads(options));
        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Akka.Cluster.Cluster.Get(node.System).RegisterOnMemberUp(() => joined.TrySetResult());
        node.System.ActorOf(CoordinatorWatch.Props(), "coordinator-watch");
        log.WriteLine($"node {node.Address} up with roles {string.Join(", ", options.Roles.Select(RoleNames.Of))}; seeds {string.Join(", ", settings.Seeds)}");
        await using var registration = ct.Register(() => _ = CoordinatedShutdown.Get(node.System).Run(CoordinatedShutdown.ClrExitReason.Instance));
        await node.System.WhenTerminated;
        if (joined.Task.IsCompleted)
        {
            log.WriteLine($"node {node.Address} left the cluster");
            return 0;
        }
        log.WriteLine($"node {node.Address} never joined the cluster (seeds {string.Join(", ", settings.Seeds)})");
        return 1;
    }

    /// <summary>cluster-config for the node's deployment, with its address, seeds and roles; validated.</summary>
    public static ClusterSettings Settings(NodeOptions options)
    {
        var settings = ClusterSettings.Create(ClusterConfigFiles.Load(options.Deployment, options.ConfigPath));
        var node = settings.ForNode(options.Hostname ?? settings.Hostname, options.Port, options.Seeds, options.Roles);
        return options.Tls is { } tls ? node.WithTls(tls.Certificate, tls.Password, tls.Ca) : node;
    }

    internal static int TorchThreads(NodeOptions options)
    {
        var workers = Math.Max(1, options.Roles.Count(r => r == NodeRole.Worker));
        return options.TorchThreads > 0 ? options.TorchThreads : Math.Max(1, Environment.ProcessorCount / workers);
    }
}
