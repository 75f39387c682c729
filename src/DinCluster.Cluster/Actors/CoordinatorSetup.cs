using DinCluster.Cluster.Jobs;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Runs;

namespace DinCluster.Cluster.Actors;

/// <summary>
/// What the coordinator singleton is started with, on the coordinator node (local objects: the
/// result promise and the log never cross the wire). <paramref name="Standby"/>: this node is a standby
/// coordinator (`train --standby`); a singleton that starts here takes the job over from the lost one.
/// </summary>
public sealed record CoordinatorSetup(
    TrainJob Job,
    TrainOptions Options,
    int Workers,
    int PsShards,
    int DataShards,
    int Nodes,
    string Mode,
    string Command,
    TimeSpan FormationTimeout,
    TextWriter Log,
    TaskCompletionSource<ClusterRunResult> Result,
    StandbyLog? Standby = null)
{
    /// <summary>A run record with this job's config and cluster shape, as the coordinator starts it.</summary>
    public RunSummary NewSummary(DateTime startedUtc) => new()
    {
        Mode = Mode,
        Command = Command,
        StartedUtc = startedUtc,
        Config = Job.Describe(),
        Cluster = new ClusterShape
        {
            Nodes = Nodes,
            Workers = Workers,
            PsShards = PsShards,
            DataShards = DataShards,
            Sync = Configuration.SyncSpec.Format(Options.Sync, Options.Staleness),
        },
    };
}

/// <summary>A finished (or failed) cluster run: its summary and the loss of every global step.</summary>
public sealed record ClusterRunResult(RunSummary Summary, IReadOnlyList<GlobalStep> Steps);

/// <summary>
/// One step as the coordinator saw it. In bsp: the global step, its participants in worker order,
/// their batch ids and the global batch's mean loss. In async/ssp: one worker's step.
/// </summary>
public sealed record GlobalStep(long Step, int[] Workers, long[] BatchIds, int Samples, double Loss);
