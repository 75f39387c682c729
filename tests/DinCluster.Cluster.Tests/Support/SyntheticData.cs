using DinCluster.Cluster.Jobs;
using DinCluster.Core.Features;
using DinCluster.Data;
using DinCluster.Model.Networks;

namespace DinCluster.Cluster.Tests.Support;

/// <summary>
/// A small behaviour log with a learnable signal: a user clicks an item more often when its
/// category is in the user's history. Written as DIR/train and DIR/test Parquet files.
/// </summary>
public static class SyntheticData
{
    public static readonly FeatureSchema Schema = FeatureSchema.Default(dim: 8, maxLen: 10);

    public static void Write(string dir, int seed, int trainSamples, int testSamples, int rowGroupSize, int trainFiles = 2)
    {
        var random = new Random(seed);
        Directory.CreateDirectory(Path.Combine(dir, "train"));
        Directory.CreateDirectory(Path.Combine(dir, "test"));
        var perFile = trainSamples / trainFiles;
        for (var f = 0; f < trainFiles; f++)
            BehaviourLogWriter.WriteFile(Path.Combine(dir, "train", $"part-{f}.parquet"), Schema, Samples(random, perFile), rowGroupSize);
        BehaviourLogWriter.WriteFile(Path.Combine(dir, "test", "part-0.parquet"), Schema, Samples(random, testSamples), rowGroupSize);
    }

    private static IEnumerable<Sample> Samples(Random random, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var user = random.Next(40);
            var length = random.Next(0, 8);
            var histItems = Enumerable.Range(0, length).Select(_ => (long)random.Next(200)).ToArray();
            var histCats = histItems.Select(it => it % 12 + 1000L).ToArray();
            var item = random.Next(200);
            var category = item % 12 + 1000L;
            var p = histCats.Contains(category) ? 0.75 : 0.2;
            yield return new Sample(user, item, category, histItems, histCats, random.NextDouble() < p ? 1 : 0);
        }
    }

    /// <summary>A small, fast network for cluster tests (PReLU: no batch statistics, so BSP matches one process).</summary>
    public static TrainJob Job(string dataDir, string outDir, int seed) => new()
    {
        DataDir = dataDir,
        OutDir = outDir,
        Schema = Schema,
        Model = new ModelSettings { AttentionHidden = [8, 4], MlpHidden = [16, 8], MlpActivation = Activation.PRelu, Seed = seed },
        Embeddings = new Core.Embeddings.EmbeddingSettings { Seed = seed },
        Epochs = 1,
        BatchSize = 32,
        EvalBatchSize = 128,
        Seed = seed,
        PsShards = 2,
        TorchThreads = 1,
        LogEverySteps = 10,
    };
}
