using System.Text.Json;
using System.Text.Json.Serialization;
using DinCluster.Data;

namespace DinCluster.Cluster.Runs;

/// <summary>
/// The machine-readable record of a run (RUN/summary.json): config, cluster shape, samples
/// consumed per epoch, throughput, test metrics per epoch, checkpoints, failures and
/// bad input. Written by the local trainer and by the cluster's coordinator alike.
/// </summary>
public sealed class RunSummary
{
    public string Mode { get; set; } = "local";
    public string Command { get; set; } = "";
    public DateTime StartedUtc { get; set; }
    public DateTime? FinishedUtc { get; set; }
    public string Status { get; set; } = "running";
    public string? Error { get; set; }
    public Dictionary<string, object?> Config { get; set; } = [];
    public ClusterShape Cluster { get; set; } = new();
    public DatasetInfo Dataset { get; set; } = new();
    public List<EpochRecord> Epochs { get; set; } = [];
    public long Steps { get; set; }
    public double TrainSeconds { get; set; }
    public double SamplesPerSecond { get; set; }
    public FinalMetrics? Final { get; set; }
    /// <summary>What the readers skipped (by reason) and truncated; null when nothing was.</summary>
    public BadInputSummary? BadInput { get; set; }
    /// <summary>Steps whose gradients held NaN/Inf and were refused by the tables / dense optimizer.</summary>
    public long NonFiniteGradientSteps { get; set; }
    public List<string> Checkpoints { get; set; } = [];
    /// <summary>The BaseModel run of `train --compare-base`, and DIN's RelaImpr over it.</summary>
    public BaseComparison? Comparison { get; set; }
    public List<FailureRecord> Failures { get; set; } = [];
    /// <summary>`train --resume`: the checkpoint this run continued from (null for a fresh run).</summary>
    public ResumeRecord? ResumedFrom { get; set; }
    /// <summary>Rollbacks to a checkpoint after a lost PS shard: what was restored and replayed.</summary>
    public List<RollbackRecord> Rollbacks { get; set; } = [];
    /// <summary>Each lost worker: when the failure detector flagged its node, when it was removed, when training stepped again.</summary>
    public List<RecoveryRecord> Recoveries { get; set; } = [];
    /// <summary>A standby coordinator took this job over from a lost one (null: no takeover).</summary>
    public TakeoverRecord? Takeover { get; set; }
    /// <summary>Every time a member's node became unreachable or reachable again, as the coordinator saw it.</summary>
    public List<ReachabilityRecord> Reachability { get; set; } = [];

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Derives the totals from the epochs: overall training samples/s and the last epoch's test metrics.</summary>
    public void Summarize()
    {
        SamplesPerSecond = TrainSeconds > 0 ? Epochs.Sum(e => e.SamplesConsumed) / TrainSeconds : 0;
        if (Epochs.LastOrDefault()?.Test is not { } last) return;
        Final = new FinalMetrics
        {
            Auc = last.Auc,
            Gauc = last.Gauc,
            LogLoss = last.LogLoss,
            FractionOfBayes = Dataset.BayesAuc is { } bayes ? (last.Auc - 0.5) / (bayes - 0.5) : null,
        };
    }

    public void Write(string path)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(this, Json));
        File.Move(tmp, path, overwrite: true);
    }

    public static RunSummary Read(string path) =>
        JsonSerializer.Deserialize<RunSummary>(File.ReadAllText(path), Json)
        ?? throw new InvalidDataException($"{path}: empty summary");
}

public sealed class ClusterShape
{
    public int Nodes { get; set; } = 1;
    public int Workers { get; set; } = 1;
    public int PsShards { get; set; } = 1;
    public int DataShards { get; set; } = 1;
    public string Sync { get; set; } = "local";
}

public sealed class DatasetInfo
{
    public string Path { get; set; } = "";
    public long TrainSamples { get; set; }
    public long TestSamples { get; set; }
    public int TrainFiles { get; set; }
    public int TrainRowGroups { get; set; }
    /// <summary>Bayes-optimal test AUC when the data set is synthetic (dataset.json), else null.</summary>
    public double? BayesAuc { get; set; }
}

public sealed class EpochRecord
{
    public int Epoch { get; set; }
    public long SamplesExpected { get; set; }
    public long SamplesConsumed { get; set; }
    /// <summary>Rows refused as bad input during the epoch (--on-bad-input skip), counted by reason in bad_input.</summary>
    public long SamplesSkipped { get; set; }
    /// <summary>True when every training sample of the epoch was consumed exactly once (or skipped and counted).</summary>
    public bool LedgerExact { get; set; }
    public long SamplesReplayed { get; set; }
    public long Steps { get; set; }
    /// <summary>Steps (since the epoch began or the run resumed) computed on the worker's own dense replica, confirmed equal by the dense actor (async/ssp, while one worker writes).</summary>
    public long DenseReplicaSteps { get; set; }
    public double TrainLoss { get; set; }
    public double Seconds { get; set; }
    public double SamplesPerSecond { get; set; }
    public TestMetrics? Test { get; set; }
}

public sealed record TestMetrics(double Auc, double Gauc, double LogLoss, long Samples);

public sealed class FinalMetrics
{
    public double Auc { get; set; }
    public double Gauc { get; set; }
    public double LogLoss { get; set; }
    /// <summary>(AUC - 0.5) / (Bayes AUC - 0.5), for synthetic data.</summary>
    public double? FractionOfBayes { get; set; }
}

public sealed record BaseComparison(double BaseAuc, double BaseGauc, double RelaImprAucPercent, double RelaImprGaucPercent);

/// <summary>The checkpoint a `train --resume` continued from, and the PS shard counts before and now (re-sharded when they differ).</summary>
public sealed record ResumeRecord(string Checkpoint, long Step, int Epoch, bool EpochComplete, int PsShardsBefore, int PsShardsNow);

/// <summary>A rollback of every PS shard, the dense state and the data offsets to <see cref="Checkpoint"/> after a lost PS.</summary>
public sealed record RollbackRecord(DateTime AtUtc, string Reason, string Checkpoint, long FromStep, long ToStep, long SamplesReplayed, double RecoverySeconds);

public sealed record FailureRecord(DateTime AtUtc, string Kind, string Node, string Handling, long SamplesReplayed = 0);

/// <summary>
/// A lost member and how training got going again. UnreachableUtc: the failure detector flagged its node
/// (null when the coordinator saw no unreachable event, e.g. the node left gracefully); RemovedUtc: the member
/// was removed (downed by the split-brain resolver) and its work handed on; ResumedUtc: the first training step
/// completed after that (null when none followed).
/// </summary>
public sealed class RecoveryRecord
{
    public string Kind { get; set; } = "";
    public string Node { get; set; } = "";
    public DateTime? UnreachableUtc { get; set; }
    public DateTime RemovedUtc { get; set; }
    public DateTime? ResumedUtc { get; set; }
    /// <summary>RemovedUtc to ResumedUtc.</summary>
    public double? ResumeSeconds { get; set; }
}

/// <summary>
/// A coordinator takeover, as the standby that took it saw it. UnreachableUtc / RemovedUtc: the old coordinator's
/// node was flagged by the failure detector / removed (downed by the split-brain resolver); TakenOverUtc: the
/// singleton started on the standby; Checkpoint: the one the job continued from (null: none was written, the job
/// started over), at CheckpointStep of CheckpointEpoch; BatchesReplayed / SamplesReplayed: acked under the old
/// coordinator after that checkpoint (the data shards' ledgers), trained again; ResumedUtc: the first training
/// step after the takeover; RecoverySeconds: RemovedUtc to ResumedUtc.
/// </summary>
public sealed class TakeoverRecord
{
    public string OldCoordinator { get; set; } = "";
    public DateTime? UnreachableUtc { get; set; }
    public DateTime? RemovedUtc { get; set; }
    public DateTime TakenOverUtc { get; set; }
    public string? Checkpoint { get; set; }
    public long CheckpointStep { get; set; }
    public int CheckpointEpoch { get; set; }
    public long BatchesReplayed { get; set; }
    public long SamplesReplayed { get; set; }
    public DateTime? ResumedUtc { get; set; }
    public double? RecoverySeconds { get; set; }
}

/// <summary>A node became "unreachable" or "reachable" (again) at AtUtc.</summary>
public sealed record ReachabilityRecord(DateTime AtUtc, string Node, string Event);
