using Akka.Actor;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Protocol;

namespace DinCluster.Cluster.Hosting;

/// <summary>`dincluster node`: one process, one node, until the cluster downs it or it is cancelled.</summary>
public static class NodeHost
{
    /// <summary>Starts the node, returns 0 when it left the cluster (downed, or cancelled and left gracefully).</summary>
    public static async Task<int> Run(NodeOptions options, TextWriter log, CancellationToken ct = default)
    {
        if (options.Roles.Contains(NodeRole.Coordinator))
            throw new ArgumentException("the coordinator runs with the job: use `dincluster train --seeds ...` (ClusterRunner.RunCoordinator)", nameof(options));
        var settings = Settings(options);
        var node = ClusterNode.Start(settings, options.Roles, null, TorchThreads(options));
        log.WriteLine($"node {node.Address} up with roles {string.Join(", ", options.Roles.Select(RoleNames.Of))}; seeds {string.Join(", ", settings.Seeds)}");
        await using var registration = ct.Register(() => _ = CoordinatedShutdown.Get(node.System).Run(CoordinatedShutdown.ClrExitReason.Instance));
        await node.System.WhenTerminated;
        return 0;
    }

    /// <summary>cluster-config for the node's deployment, with its address, seeds and roles; validated.</summary>
    public static ClusterSettings Settings(NodeOptions options)
    {
        var settings = ClusterSettings.Create(ClusterConfigFiles.Load(options.Deployment, options.ConfigPath));
        return settings.ForNode(options.Hostname ?? settings.Hostname, options.Port, options.Seeds, options.Roles);
    }

    internal static int TorchThreads(NodeOptions options)
    {
        var workers = Math.Max(1, options.Roles.Count(r => r == NodeRole.Worker));
        return options.TorchThreads > 0 ? options.TorchThreads : Math.Max(1, Environment.ProcessorCount / workers);
    }
}
