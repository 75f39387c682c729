using DinCluster.Core.Embeddings;
using DinCluster.Core.Features;
using DinCluster.Core.Optimizers;
using DinCluster.Data;
using DinCluster.Model.Networks;

namespace DinCluster.Cluster.Jobs;

/// <summary>
/// Everything a training run needs, whichever trainer runs it (local reference trainer or
/// cluster). Built once from the command line and config file, validated, then immutable.
/// </summary>
public sealed record TrainJob
{
    public required string DataDir { get; init; }
    public required string OutDir { get; init; }
    public FeatureSchema Schema { get; init; } = FeatureSchema.Default();
    public ModelSettings Model { get; init; } = new();
    public EmbeddingSettings Embeddings { get; init; } = new();
    public AdamSettings Dense { get; init; } = new();
    public int Epochs { get; init; } = 2;
    public int BatchSize { get; init; } = 256;
    public int EvalBatchSize { get; init; } = 4096;
    public long Seed { get; init; } = 1;
    public BadInputPolicy OnBadInput { get; init; } = BadInputPolicy.Fail;
    /// <summary>A metrics.csv row (window mean of the train loss) every this many steps.</summary>
    public int LogEverySteps { get; init; } = 50;
    /// <summary>Embedding shards: PS actors in a cluster, in-process shards in the local trainer.</summary>
    public int PsShards { get; init; } = 1;
    /// <summary>Stop after this many steps in total (0 = no limit); for tests and smoke runs.</summary>
    public long MaxSteps { get; init; }
    /// <summary>A mid-epoch checkpoint every this many steps (0 = off); epoch ends and the run's end always checkpoint.</summary>
    public long CheckpointEverySteps { get; init; }
    /// <summary>A mid-epoch checkpoint every this many minutes (0 = off).</summary>
    public double CheckpointEveryMinutes { get; init; }
    /// <summary>Continue from the newest valid checkpoint under OutDir/checkpoints instead of starting fresh.</summary>
    public bool Resume { get; init; }
    /// <summary>libtorch intra-op threads of a worker (the local trainer is one), split among its lanes (0 = automatic, see WorkerThreads).</summary>
    public int TorchThreads { get; init; }
    /// <summary>
    /// Slices of each batch computed in parallel by copies of the network (see NetworkLanes). Part
    /// of the model's math, not of the machine: Dice normalises with the statistics of a slice.
    /// </summary>
    public int Lanes { get; init; } = DefaultLanes;

    public const int DefaultLanes = 1;

    public string TrainDir => Path.Combine(DataDir, "train");
    public string TestDir => Path.Combine(DataDir, "test");

    public IReadOnlyList<string> TrainFiles() => ParquetFiles(TrainDir);
    public IReadOnlyList<string> TestFiles() => ParquetFiles(TestDir);

    private static string[] ParquetFiles(string dir)
    {
        if (!Directory.Exists(dir)) throw new FileNotFoundException($"data folder {dir} does not exist (expected DIR/train and DIR/test with .parquet files)");
        var files = Directory.GetFiles(dir, "*.parquet").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new FileNotFoundException($"data folder {dir} holds no .parquet file");
        return files;
    }

    /// <summary>Bayes-optimal test AUC from DIR/dataset.json when the generator wrote one.</summary>
    public double? BayesAuc() =>
        File.Exists(Path.Combine(DataDir, SyntheticDataset.FileName)) ? SyntheticDataset.Load(DataDir).BayesTestAuc : null;

    public void Validate()
    {
        static void Must(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Must(Epochs >= 1, $"epochs is set to {Epochs}, must be >= 1");
        Must(BatchSize >= 1, $"batch size is set to {BatchSize}, must be >= 1");
        Must(EvalBatchSize >= 1, $"eval batch size is set to {EvalBatchSize}, must be >= 1");
        Must(Lanes is >= 1 and <= 64, $"lanes is set to {Lanes}, must be 1..64");
        Must(PsShards >= 1, $"ps shards is set to {PsShards}, must be >= 1");
        Must(LogEverySteps >= 1, $"log every is set to {LogEverySteps}, must be >= 1");
        Must(MaxSteps >= 0, $"max steps is set to {MaxSteps}, must be >= 0");
        Must(CheckpointEverySteps >= 0, $"checkpoint every steps is set to {CheckpointEverySteps}, must be >= 0");
        Must(CheckpointEveryMinutes >= 0 && double.IsFinite(CheckpointEveryMinutes), $"checkpoint every minutes is set to {CheckpointEveryMinutes}, must be >= 0");
        Model.Validate();
        Embeddings.Validate();
        Dense.Validate();
    }

    /// <summary>The settings as they go into summary.json.</summary>
    public Dictionary<string, object?> Describe() => new()
    {
        ["data"] = DataDir,
        ["epochs"] = Epochs,
        ["batch_size"] = BatchSize,
        ["lanes"] = Lanes,
        ["seed"] = Seed,
        ["preset"] = Model.Preset.ToString().ToLowerInvariant(),
        ["attention_activation"] = Model.AttentionActivation.ToString().ToLowerInvariant(),
        ["attention_softmax"] = Model.AttentionSoftmax,
        ["mlp_activation"] = Model.MlpActivation.ToString().ToLowerInvariant(),
        ["mlp_hidden"] = string.Join('-', Model.MlpHidden),
        ["attention_hidden"] = string.Join('-', Model.AttentionHidden),
        ["sparse_optimizer"] = Embeddings.Optimizer.Kind.ToString().ToLowerInvariant(),
        ["sparse_lr"] = Embeddings.Optimizer.LearningRate,
        ["dense_lr"] = Dense.LearningRate,
        ["mba_lambda"] = Embeddings.MbaLambda,
        ["min_count"] = Embeddings.MinCount,
        ["on_bad_input"] = OnBadInput.ToString().ToLowerInvariant(),
        ["checkpoint_every_steps"] = CheckpointEverySteps,
        ["checkpoint_every_minutes"] = CheckpointEveryMinutes,
        ["schema"] = FeatureSchemaJson.ToJson(Schema).ToJsonString(),
    };
}
