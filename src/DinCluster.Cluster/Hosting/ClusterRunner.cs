using DinCluster.Cluster.Actors;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Jobs;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Runs;

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

        // Every simulated worker is in this process.
        var threads = new WorkerThreads(job.TorchThreads, shape.Workers);
        var (setup, result) = Setup(job, shape, settings, nodes, "simulated", log);
        log.WriteLine($"simulated cluster: {nodes} nodes on 127.0.0.1, {shape.Workers} worker(s), {job.PsShards} PS shard(s), {shape.DataShards} data shard(s), sync {setup.Options.Sync.ToString().ToLowerInvariant()}");

        var started = new List<ClusterNode>();
        try
        {
            var first = ClusterNode.Start(settings.ForNode("127.0.0.1", 0, [], roles[0]), roles[0], setup, threads);
            started.Add(first);
            var seed = new NodeAddress(first.Address.Host!, first.Address.Port!.Value);
            for (var n = 1; n < nodes; n++)
                started.Add(ClusterNode.Start(settings.ForNode("127.0.0.1", 0, [seed], roles[n]), roles[n], null, threads));
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
    /// <code>
    ///   start --Up (every role's min-nr-of-members joined)--> coordinator singleton runs the job
    ///         --result--> dismiss the other nodes (they leave and exit) --> leave, terminate
    ///   never Up within formation-timeout, or this node terminated first (signal, downed): a failed run
    /// </code>
    /// A failed run that the coordinator actor could not record still gets RUN/summary.json.
    /// <paramref name="standby"/>: a standby coordinator (`train --seeds ... --standby`, started after the active
    /// one): a younger coordinator-role member, so the singleton starts here only once the active coordinator's node
    /// is removed, and then takes the job over from the run's newest checkpoint. A standby the active coordinator
    /// dismisses at the end of the job returns a summary with status "standby", one that never joined the cluster a
    /// failed one; neither writes anything to the run folder.
    /// </summary>
    public static async Task<ClusterRunResult> RunCoordinator(
        TrainJob job, ClusterShapeOptions shape, NodeOptions node, TextWriter log, CancellationToken ct = default, bool standby = false)
    {
        job.Validate();
        var started = DateTime.UtcNow;
        var settings = NodeHost.Settings(node);
        var roles = node.Roles.Contains(NodeRole.Coordinator) ? node.Roles : [NodeRole.Coordinator, .. node.Roles];
        var (setup, result) = Setup(job, shape, settings, shape.Nodes, node.Deployment.ToString().ToLowerInvariant(), log);
        if (standby) setup = setup with { Standby = new StandbyLog() };
        var cluster = ClusterNode.Start(settings with { Roles = roles }, roles, setup, NodeHost.Threads(node));
        // Nothing to record unless this standby took the job over (the active coordinator writes the run's files).
        bool Records() => setup.Standby is not { TookOver: false };
        // failed: the standby never became a member, so it could not have taken over (its command exits 1).
        ClusterRunResult NotTakenOver(string why, bool failed = false)
        {
            log.WriteLine($"standby coordinator {cluster.Address}: {why}; the job was not taken over");
            var summary = setup.NewSummary(started);
            summary.Status = failed ? "failed" : "standby";
            summary.Error = why;
            return new ClusterRunResult(summary, []);
        }
        try
        {
            if (setup.Standby is { } s)
            {
                cluster.System.ActorOf(StandbyWatch.Props(s), "standby-watch");
                log.WriteLine($"standby coordinator node {cluster.Address}; takes the job over if the active coordinator is lost");
            }
            else log.WriteLine($"coordinator node {cluster.Address}; waiting for the other nodes to join");
            var error = await WaitUntilUp(cluster, settings, ct);
            if (error is not null) return Records() ? Failed(setup, started, error) : NotTakenOver(error, failed: true);

            var finished = await Task.WhenAny(result.Task, cluster.System.WhenTerminated).WaitAsync(ct);
            if (finished != result.Task)
            {
                return Records()
                    ? Failed(setup, started, "the coordinator node shut down before the run finished (stopped by a signal, or downed)")
                    : NotTakenOver("dismissed at the end of the job (or stopped) while the active coordinator ran it");
            }
            try
            {
                return await result.Task;
            }
            catch (InvalidOperationException e)
            {
                return Records() ? Failed(setup, started, e.Message) : NotTakenOver(e.Message);
            }
        }
        finally
        {
            var left = await NodeDismissal.Run(cluster.System, settings.DismissTimeout);
            if (left > 0) log.WriteLine($"coordinator: {left} node(s) still in the cluster after {settings.DismissTimeout.TotalSeconds:0}s; they leave when this node is gone");
            await cluster.DisposeAsync();
        }
    }

    /// <summary>null once this node is Up; else why it never got there.</summary>
    private static async Task<string?> WaitUntilUp(ClusterNode node, ClusterSettings settings, CancellationToken ct)
    {
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var akka = Akka.Cluster.Cluster.Get(node.System);
        akka.RegisterOnMemberUp(() => up.TrySetResult());
        var first = await Task.WhenAny(up.Task, node.System.WhenTerminated, Task.Delay(settings.FormationTimeout, ct));
        ct.ThrowIfCancellationRequested();
        if (first == up.Task) return null;
        if (first == node.System.WhenTerminated) return "the coordinator node shut down while the cluster was forming";
        var members = akka.State.Members.Where(m => !m.UniqueAddress.Equals(akka.SelfUniqueAddress))
            .Select(m => $"{string.Join("+", m.Roles)} at {m.Address.Host}:{m.Address.Port}").ToList();
        return $"formation timed out after {settings.FormationTimeout.TotalSeconds:0}s: the cluster needs at least {settings.MinWorkers} worker, " +
            $"{settings.MinPs} ps and {settings.MinDataShards} data node(s) before it starts; joined: {(members.Count == 0 ? "none" : string.Join(", ", members))}";
    }

    /// <summary>A run that ended before the coordinator actor could record it: summary.json says why.</summary>
    private static ClusterRunResult Failed(CoordinatorSetup setup, DateTime started, string error)
    {
        setup.Log.WriteLine($"coordinator: run failed: {error}");
        var summary = setup.NewSummary(started);
        summary.FinishedUtc = DateTime.UtcNow;
        summary.Status = "failed";
        summary.Error = error;
        summary.Dataset = new DatasetInfo { Path = setup.Job.DataDir };
        Directory.CreateDirectory(setup.Job.OutDir);
        summary.Write(Path.Combine(setup.Job.OutDir, "summary.json"));
        return new ClusterRunResult(summary, []);
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
