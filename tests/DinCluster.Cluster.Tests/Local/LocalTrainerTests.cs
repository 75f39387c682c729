using DinCluster.Cluster.Checkpoints;
using DinCluster.Cluster.Jobs;
using DinCluster.Cluster.Local;
using DinCluster.Cluster.Runs;
using DinCluster.Core.Features;
using DinCluster.Data;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Local;

/// <summary>A small synthetic set shared by the trainer tests (generated once per test class run).</summary>
public sealed class SmallSyntheticData : IDisposable
{
    public const ulong Seed = 11;
    public string Dir { get; } = Directory.CreateTempSubdirectory("dincluster-local-").FullName;
    public SyntheticDataset Dataset { get; }

    public SmallSyntheticData()
    {
        Dataset = SyntheticGenerator.Generate(Dir, new SyntheticSettings
        {
            Users = 1500, Items = 3000, Categories = 40, Samples = 40_000, Seed = Seed, RowGroupSize = 2048, RowsPerFile = 12_000,
        });
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}

[Collection(TorchCollection.Name)]
public sealed class LocalTrainerTests(SmallSyntheticData data, ITestOutputHelper output) : IClassFixture<SmallSyntheticData>, IDisposable
{
    private readonly string _out = Directory.CreateTempSubdirectory("dincluster-run-").FullName;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    private TrainJob Job(string name, int epochs = 2, int shards = 1, long maxSteps = 0) => new()
    {
        DataDir = data.Dir,
        OutDir = Path.Combine(_out, name),
        Schema = FeatureSchema.Default(dim: 16),
        Epochs = epochs,
        BatchSize = 256,
        PsShards = shards,
        MaxSteps = maxSteps,
        Seed = 5,
        TorchThreads = 1,
    };

    [Fact]
    public void LocalTrainer_learns_most_of_the_bayes_gain_when_trained_on_synthetic_data()
    {
        output.WriteLine($"data seed {SmallSyntheticData.Seed}, train seed 5");
        var job = Job("learn", epochs: 3);
        var summary = new LocalTrainer(job, new StringWriter()).Run();

        var bayes = data.Dataset.BayesTestAuc;
        var fraction = (summary.Final!.Auc - 0.5) / (bayes - 0.5);
        output.WriteLine($"test AUC {summary.Final.Auc:F4}, GAUC {summary.Final.Gauc:F4}, Bayes AUC {bayes:F4}, fraction {fraction:F3}");
        Assert.True(fraction >= 0.7, $"AUC {summary.Final.Auc:F4} reaches only {fraction:F3} of the Bayes gain (Bayes AUC {bayes:F4})");
        Assert.All(summary.Epochs, e =>
        {
            Assert.True(e.LedgerExact);
            Assert.Equal(data.Dataset.Train.Samples, e.SamplesConsumed);
        });
        Assert.Equal("completed", summary.Status);
        Assert.True(File.Exists(Path.Combine(job.OutDir, "curves.png")));
        var csv = File.ReadAllLines(Path.Combine(job.OutDir, "metrics.csv"));
        Assert.Equal(MetricsLog.Header, csv[0]);
        Assert.Equal(3, csv.Skip(1).Count(l => l.Split(',')[6].Length > 0)); // one test row per epoch
        var reread = RunSummary.Read(Path.Combine(job.OutDir, "summary.json"));
        Assert.Equal(summary.Final.Auc, reread.Final!.Auc, 12);
    }

    [Fact]
    public void LocalTrainer_gives_the_same_losses_when_tables_are_split_over_one_or_four_shards()
    {
        var one = new LocalTrainer(Job("one", epochs: 1, shards: 1, maxSteps: 40), new StringWriter());
        one.Run();
        var four = new LocalTrainer(Job("four", epochs: 1, shards: 4, maxSteps: 40), new StringWriter());
        four.Run();
        Assert.Equal(40, one.StepLosses.Count);
        for (var i = 0; i < one.StepLosses.Count; i++)
            Assert.True(Math.Abs(one.StepLosses[i] - four.StepLosses[i]) <= 1e-5, $"step {i + 1}: {one.StepLosses[i]} vs {four.StepLosses[i]}");
    }

    [Fact]
    public void Checkpoint_scores_the_test_set_as_the_trainer_did_when_loaded_back()
    {
        var job = Job("ckpt", epochs: 1, maxSteps: 60);
        var summary = new LocalTrainer(job, new StringWriter()).Run();
        var dir = ModelCheckpoint.Resolve(job.OutDir);
        var model = ModelCheckpoint.Load(dir, psShards: 3);
        var reader = new BehaviourLogReader(model.Schema);
        var result = Evaluator.Run(model.CreateNetwork(), model.Tables, reader, job.TestFiles(), 4096);
        Assert.Equal(summary.Final!.Auc, result.Metrics.Auc, 6);
        Assert.Equal(summary.Final.Gauc, result.Metrics.Gauc, 6);
        Assert.Equal(60, model.Manifest.Step);
    }
}
