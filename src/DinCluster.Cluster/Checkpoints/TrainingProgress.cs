using System.Text.Json;
using DinCluster.Cluster.Runs;

namespace DinCluster.Cluster.Checkpoints;

/// <summary>
/// progress.json of a checkpoint: where training stood at its step, so a resume (or a rollback
/// after a lost PS) continues from exactly there.
/// <code>
///   epoch, epoch_complete     the epoch the step is in; complete = its every batch was applied
///   step, bsp_step            global step counter (local: = batch ids pushed); bsp global step
///   samples_seen              samples trained since the run began
///   epoch_steps, epoch_samples, epoch_loss_sum    the running epoch's accumulators
///   epoch_batches_done        local trainer: batches of the epoch's seeded order already trained
///   data_shards[]             cluster: per data shard, the batch ids of the epoch already applied
///   epochs[]                  the records of the finished epochs (summary.json carries them on)
/// </code>
/// </summary>
public sealed class TrainingProgress
{
    public const string FileName = "progress.json";

    public int Epoch { get; set; }
    public bool EpochComplete { get; set; }
    public long Step { get; set; }
    public long BspStep { get; set; }
    public long SamplesSeen { get; set; }
    public long EpochSteps { get; set; }
    public long EpochSamples { get; set; }
    public double EpochLossSum { get; set; }
    public long EpochBatchesDone { get; set; }
    public List<DataShardProgress> DataShards { get; set; } = [];
    public List<EpochRecord> Epochs { get; set; } = [];

    /// <summary>The epoch training continues in: the next one when this one was complete.</summary>
    public int ResumeEpoch => EpochComplete ? Epoch + 1 : Epoch;

    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, RunSummary.Json));

    /// <summary>Reads the progress of checkpoint folder <paramref name="dir"/>, or says why it cannot be resumed from.</summary>
    public static TrainingProgress Read(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) throw new InvalidDataException($"checkpoint {dir} has no {FileName} (written by an older build); it can be evaluated but not resumed");
        try
        {
            return JsonSerializer.Deserialize<TrainingProgress>(File.ReadAllText(path), RunSummary.Json)
                ?? throw new InvalidDataException($"{path} is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid progress JSON ({e.Message})");
        }
    }
}

/// <summary>One data shard's part of a checkpoint: the epoch's batches whose gradients the checkpoint holds.</summary>
public sealed class DataShardProgress
{
    public int ShardIndex { get; set; }
    public long[] ConsumedBatchIds { get; set; } = [];
}
