using System.Globalization;
using DinCluster.Cli.Tests.Support;
using DinCluster.Model.Networks;
using Xunit.Abstractions;

namespace DinCluster.Cli.Tests.Serving;

/// <summary>
/// The PyTorch round trip: `dincluster export --format pytorch`, then scripts/pytorch_predict.py (plain
/// torch on the exported weights and the model's .json) scores the test samples, and its predictions
/// match `dincluster predict --unseen zero` (the export's rule for unseen ids) to 1e-5.
/// Runs where a Python with torch is installed; otherwise prints why it skipped.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class PyTorchRoundTripTests(TrainedModel model, ITestOutputHelper output) : IClassFixture<TrainedModel>, IDisposable
{
    private readonly TempDir _out = new();

    public void Dispose() => _out.Dispose();

    [Fact]
    public void Python_torch_predictions_on_the_export_match_predict_to_1e_5()
    {
        RoundTrip(model.Run);
    }

    /// <summary>The other activations (relu, prelu, sigmoid), the masked softmax, and the base preset.</summary>
    [Theory]
    [InlineData("din", "relu", true, "p_relu")]
    [InlineData("din", "p_relu", false, "sigmoid")]
    [InlineData("base", "sigmoid", false, "p_relu")]
    public void Python_torch_predictions_match_predict_for_other_activations_and_presets(string preset, string attention, bool softmax, string mlp)
    {
        static Activation Parse(string a) => a switch
        {
            "relu" => Activation.Relu,
            "p_relu" => Activation.PRelu,
            "sigmoid" => Activation.Sigmoid,
            _ => Activation.Dice,
        };
        var run = _out.File("run");
        model.Train(run, new ModelSettings
        {
            Preset = preset == "base" ? ModelPreset.Base : ModelPreset.Din,
            AttentionHidden = [8, 4],
            AttentionActivation = Parse(attention),
            AttentionSoftmax = softmax,
            MlpHidden = [16, 8],
            MlpActivation = Parse(mlp),
            Seed = TrainedModel.Seed,
        });
        RoundTrip(run);
    }

    private void RoundTrip(string run)
    {
        var python = PythonWithTorch.Find(out var reason);
        if (python is null)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }
        output.WriteLine($"using {python}; model seed {TrainedModel.Seed}");
        var pt = _out.File("din.pt");
        var samples = _out.File("samples.jsonl");
        var fromTorch = _out.File("torch.csv");
        var fromPredict = _out.File("predict.csv");
        Assert.Equal(0, Program.Main(["export", "--model", run, "--format", "pytorch", "--out", pt]));
        Assert.True(File.Exists(_out.File("din.json")), "export writes the model description beside the .pt");
        output.WriteLine(File.ReadAllText(_out.File("din.json")).Split("\"model\"")[1].Split("\"embeddings\"")[0]);
        Assert.Equal(0, Program.Main(["predict", "--model", run, "--data", model.Data, "--out", fromPredict, "--unseen", "zero"]));
        File.WriteAllLines(samples, model.TestSamples.Select(s => TrainedModel.Json(s).ToJsonString()));

        var script = Path.Combine(Repo.Root, "scripts", "pytorch_predict.py");
        var (code, stdout, stderr) = PythonWithTorch.Run(python, [script, pt, samples, fromTorch]);
        output.WriteLine(stdout);
        Assert.True(code == 0, $"pytorch_predict.py failed ({code}): {stderr}");
        Assert.DoesNotContain(" 0 id lookups", stdout);   // the unseen-id samples did reach the zero rows

        var expected = TrainedModel.ReadPredictions(fromPredict);
        var actual = File.ReadLines(fromTorch).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(expected.Count, actual.Count);
        var worst = 0.0;
        for (var i = 0; i < actual.Count; i++)
        {
            Assert.Equal(expected[i].User, long.Parse(actual[i][0], CultureInfo.InvariantCulture));
            Assert.Equal(expected[i].Item, long.Parse(actual[i][1], CultureInfo.InvariantCulture));
            var difference = Math.Abs(double.Parse(actual[i][2], CultureInfo.InvariantCulture) - expected[i].Score);
            worst = Math.Max(worst, difference);
            Assert.True(difference <= 1e-5, $"sample {i}: torch {actual[i][2]}, predict {expected[i].Score}");
        }
        output.WriteLine($"{actual.Count} samples, largest |torch - predict| = {worst:E2}");
    }

    [Fact]
    public void Predict_scores_unseen_ids_differently_under_zero_and_init()
    {
        var zero = _out.File("zero.csv");
        var init = _out.File("init.csv");
        Assert.Equal(0, Program.Main(["predict", "--model", model.Run, "--data", model.Data, "--out", zero, "--unseen", "zero"]));
        Assert.Equal(0, Program.Main(["predict", "--model", model.Run, "--data", model.Data, "--out", init]));
        var a = TrainedModel.ReadPredictions(zero);
        var b = TrainedModel.ReadPredictions(init);
        var unseen = model.TestSamples.Count - 4;   // user, item and category ids no table holds
        Assert.NotEqual(a[unseen].Score, b[unseen].Score);
        Assert.Equal(a[0].Score, b[0].Score);        // every id of sample 0 was trained
    }
}
