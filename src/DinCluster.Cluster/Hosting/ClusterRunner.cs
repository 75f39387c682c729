using DinCluster.Cluster.Actors;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Jobs;
using DinCluster.Cluster.Protocol;

namespace DinCluster.Cluster.Hosting;

/// <summary>The cluster's shape beyond the job (the job holds the PS shard count).</summary>
/// <param name="Nodes">Simulated: ActorSystems in the process; 0 = 1 + max(workers, ps, data shards).
/// Node 0 is the coordinator, the role instances are spread round-robin over the others.</param>
public sealed record ClusterShapeOptions(
    int Workers = 2,
    int DataShards = 2,
    int Nodes = 0,
    SyncMode Sync = SyncMode.Async,
    int Staleness = 0);

/// <summary>
/// Entry points that run a training job on the actor cluster: all nodes in this process
/// (<see cref="RunSimulated"/>), or this process as the coordinator of nodes started elsewhere
/// with <see cref="NodeHost.Run"/> (<see cref="RunCoordinator"/>).
/// </summary>
public static class ClusterRunner
{
    /// <summary>
    /// N ActorSystems in one process joined into one Akka.Cluster over loopback with real
    /// remoting (free ports), roles spread over them; returns when the run finished or failed.
    /// </summary>
    public static async Task<ClusterRunResult> RunSimulated(
        TrainJob job, ClusterShapeOptions shape, TextWriter log, string? configPath = null, CancellationToken ct = default)
    {
        job.Validate();
        var settings = ClusterSettings.Create(ClusterConfigFiles.Load(Deployment.Simulated, configPath));
        var nodes = shape.Nodes > 0 ? shape.Nodes : 1 + Math.Max(shape.Workers, Math.Max(job.PsShards, shape.DataShards));
        var instances = Enumerable.Repeat(NodeRole.ParameterServer, job.PsShards)
            .Concat(Enumerable.Repeat(NodeRole.DataShard, shape.DataShards))
            .Concat(Enumerable.Repeat(NodeRole.Worker, shape.Workers)).ToList();
        var roles = Enumerable.Range(0, nodes).Select(n => n == 0 ? new List<NodeRole> { NodeRole.Coordinator } : []).ToList();
        for (var i = 0; i < instances.Count; i++) roles[nodes == 1 ? 0 : 1 + i % (nodes - 1)].Add(instances[i]);

        var torchThreads = job.TorchThreads > 0 ? job.TorchThreads : Math.Max(1, Environment.ProcessorCount / Math.Max(1, shape.Workers));
        var (setup, result) = Setup(job, shape, settings, nodes, "simulated", log);
        log.WriteLine($"simulated cluster: {nodes} nodes on 127.0.0.1, {shape.Workers} worker(s), {job.PsShards} PS shard(s), {shape.DataShards} data shard(s), sync {setup.Options.Sync.ToString().ToLowerInvariant()}");

        var started = new List<ClusterNode>();
        try
        {
            var first = ClusterNode.Start(settings.ForNode("127.0.0.1", 0, [], roles[0]), roles[0], setup, torchThreads);
            started.Add(first);
            var seed = new NodeAddress(first.Address.Host!, first.Address.Port!.Value);
            for (var n = 1; n < nodes; n++)
                started.Add(ClusterNode.Start(settings.ForNode("127.0.0.1", 0, [seed], roles[n]), roles[n], null, torchThreads));
            return await result.Task.WaitAsync(ct);
        }
        finally
        {
            // Non-coordinators first, so the singleton does not hand over during shutdown.
            for (var i = started.Count - 1; i >= 0; i--) await started[i].DisposeAsync();
        }
    }

    /// <summary>
    /// This process is the coordinator (and whatever roles <paramref name="node"/> lists besides) of a
    /// cluster whose other nodes run <see cref="NodeHost.Run"/>; returns when the run finished or failed.
    /// </summary>
    public static async Task<ClusterRunResult> RunCoordinator(
        TrainJob job, ClusterShapeOptions shape, NodeOptions node, TextWriter log, CancellationToken ct = default)
    {
        job.Validate();
        var settings = NodeHost.Settings(node);
        var roles = node.Roles.Contains(NodeRole.Coordinator) ? node.Roles : [NodeRole.Coordinator, .. node.Roles];
        var (setup, result) = Setup(job, shape, settings, shape.Nodes, node.Deployment.ToString().ToLowerInvariant(), log);
        await using var started = ClusterNode.Start(settings with { Roles = roles }, roles, setup, NodeHost.TorchThreads(node));
        log.WriteLine($"coordinator node {started.Address}; waiting for the other nodes to join");
        return await result.Task.WaitAsync(ct);
    }

    private static (CoordinatorSetup, TaskCompletionSource<ClusterRunResult>) Setup(
        TrainJob job, ClusterShapeOptions shape, ClusterSettings settings, int nodes, string mode, TextWriter log)
    {
        var result = new TaskCompletionSource<ClusterRunResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new TrainOptions(shape.Sync, shape.Staleness, settings.Credit, (int)settings.MaxMessageBytes, TrainJobJson.Write(job));
        var command = $"train --cluster {mode} --workers {shape.Workers} --ps {job.PsShards} --data-shards {shape.DataShards} --sync {SyncSpec.Format(shape.Sync, shape.Staleness)}";
        return (new CoordinatorSetup(job, options, shape.Workers, job.PsShards, shape.DataShards, nodes, mode, command,
            settings.FormationTimeout, log, result), result);
    }
}
