using DinCluster.Cluster.Jobs;
using DinCluster.Core.Embeddings;
using DinCluster.Core.Features;
using DinCluster.Core.Optimizers;
using DinCluster.Data;
using DinCluster.Model.Networks;

namespace DinCluster.Cluster.Tests.Jobs;

public sealed class TrainJobJsonTests
{
    [Fact]
    public void Job_json_round_trips_every_setting_when_non_defaults_are_set()
    {
        var job = new TrainJob
        {
            DataDir = "/data/x",
            OutDir = "/runs/y",
            Schema = FeatureSchema.Default(dim: 8, maxLen: 7),
            Model = new ModelSettings { Preset = ModelPreset.Base, MlpActivation = Activation.PRelu, MlpHidden = [16, 8], Seed = 9 },
            Embeddings = new EmbeddingSettings { Seed = 9, MbaLambda = 0.01f, MinCount = 2, Optimizer = SparseOptimizerSettings.Parse("sgd") with { LearningRate = 0.5f } },
            Dense = new AdamSettings(LearningRate: 0.01f),
            Epochs = 3,
            BatchSize = 32,
            EvalBatchSize = 64,
            Seed = 9,
            OnBadInput = BadInputPolicy.Skip,
            LogEverySteps = 5,
            PsShards = 2,
            MaxSteps = 50,
            TorchThreads = 1,
        };
        var copy = TrainJobJson.Read(TrainJobJson.Write(job));
        // Records holding collections compare them by reference, so compare the rendering and key fields.
        Assert.Equal(TrainJobJson.Write(job), TrainJobJson.Write(copy));
        Assert.Equal(job.Model, copy.Model);
        Assert.Equal(job.Embeddings.Optimizer, copy.Embeddings.Optimizer);
        Assert.Equal(job.Dense, copy.Dense);
        Assert.Equal((job.Epochs, job.BatchSize, job.EvalBatchSize, job.Seed, job.OnBadInput, job.MaxSteps, job.PsShards),
            (copy.Epochs, copy.BatchSize, copy.EvalBatchSize, copy.Seed, copy.OnBadInput, copy.MaxSteps, copy.PsShards));
        Assert.Equal(job.Schema.Tables, copy.Schema.Tables);
        Assert.Equal(job.Schema.VarLen, copy.Schema.VarLen);
        Assert.Equal(job.Schema.HistoryPairs, copy.Schema.HistoryPairs);
    }
}
