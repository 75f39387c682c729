using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using DinCluster.Model.Networks;
using DinCluster.Model.Tests.Support;
using DinCluster.Model.Training;
using Xunit.Abstractions;

namespace DinCluster.Model.Tests.Training;

[Collection(TorchCollection.Name)]
public sealed class NetworkLanesTests(ITestOutputHelper output)
{
    private static readonly FeatureSchema Small = FeatureSchema.Default(dim: 4, maxLen: 8);
    // PRelu has no batch statistics: lanes must then reproduce the whole batch's step.
    private static readonly ModelSettings NoBatchStatistics = new() { AttentionHidden = [6, 4], MlpHidden = [5, 3], MlpActivation = Activation.PRelu, Seed = 3 };
    private static readonly ModelSettings WithDice = NoBatchStatistics with { MlpActivation = Activation.Dice };

    private static (Batch Batch, BatchIndex Index, float[][] Rows) Input(int count, int seed)
    {
        var random = new Random(seed);
        var batch = TestData.Random(Small, Enumerable.Range(0, count).Select(_ => random.Next(0, 9)).ToArray(), seed);
        var index = BatchIndex.Build(batch, Small);
        return (batch, index, TestData.Rows(Small, index, seed));
    }

    [Theory]
    [InlineData(2, 9)]
    [InlineData(3, 10)]
    public void Lanes_give_the_whole_batch_loss_and_gradients_when_the_model_has_no_batch_statistics(int lanes, int count)
    {
        const int seed = 11;
        output.WriteLine($"seed {seed}, {lanes} lanes, batch {count}");
        using var one = new DinNetwork(Small, NoBatchStatistics);
        using var split = new NetworkLanes(Small, NoBatchStatistics, lanes, torchThreads: 1);
        for (var step = 0; step < 3; step++)
        {
            var (batch, index, rows) = Input(count, seed + step);
            var expected = one.TrainStep(batch, index, rows);
            var actual = split.TrainStep(batch, index, rows);

            Assert.Equal(expected.Loss, actual.Loss, 1e-6f);
            Assert.Equal(expected.Predictions.Length, actual.Predictions.Length);
            for (var i = 0; i < expected.Predictions.Length; i++) Assert.Equal(expected.Predictions[i], actual.Predictions[i], 1e-6f);
            AssertClose(expected.DenseGradient, actual.DenseGradient, "dense gradient");
            for (var t = 0; t < expected.RowGradients.Length; t++) AssertClose(expected.RowGradients[t], actual.RowGradients[t], $"row gradients of table {t}");
            // The same update on both keeps them comparable at the next step.
            var dense = one.GetDense().Zip(expected.DenseGradient, (w, g) => w - 0.5f * g).ToArray();
            one.SetDense(dense);
            split.SetDense(dense);
        }
    }

    [Fact]
    public void Dice_statistics_are_the_slices_weighted_mean_and_equal_in_every_lane_after_a_step()
    {
        const int seed = 5;
        output.WriteLine($"seed {seed}");
        var (batch, index, rows) = Input(7, seed);
        using var split = new NetworkLanes(Small, WithDice, lanes: 2, torchThreads: 1);
        split.TrainStep(batch, index, rows);

        // Each slice alone on a fresh network: the lanes' statistics are their 4/7 and 3/7 mix.
        using var first = new DinNetwork(Small, WithDice);
        using var second = new DinNetwork(Small, WithDice);
        first.TrainStep(batch.Slice(0, 4, 0), index.Slice(batch, 0, 4), rows);
        second.TrainStep(batch.Slice(4, 3, 0), index.Slice(batch, 4, 3), rows);
        var expected = first.GetBuffers().Zip(second.GetBuffers(), (a, b) => 4f / 7 * a + 3f / 7 * b).ToArray();
        AssertClose(expected, split.GetBuffers(), "Dice running statistics");

        // Inference normalises with those statistics in every lane: split and whole agree.
        using var whole = new DinNetwork(Small, WithDice);
        whole.SetBuffers(split.GetBuffers());
        var (test, testIndex, testRows) = Input(9, seed + 1);
        var wholeScores = whole.Predict(test, testIndex, testRows);
        var splitScores = split.Predict(test, testIndex, testRows);
        for (var i = 0; i < wholeScores.Length; i++) Assert.Equal(wholeScores[i], splitScores[i], 1e-6f);
    }

    [Fact]
    public void A_batch_smaller_than_the_lanes_uses_one_lane_per_sample()
    {
        var (batch, index, rows) = Input(2, 21);
        using var one = new DinNetwork(Small, NoBatchStatistics);
        using var split = new NetworkLanes(Small, NoBatchStatistics, lanes: 4, torchThreads: 1);
        var expected = one.TrainStep(batch, index, rows);
        var actual = split.TrainStep(batch, index, rows);
        Assert.Equal(expected.Loss, actual.Loss, 1e-6f);
        Assert.Equal(2, actual.Predictions.Length);
    }

    [Fact]
    public void A_failing_lane_throws_to_the_caller_and_the_lanes_keep_working()
    {
        var (batch, index, rows) = Input(6, 8);
        using var split = new NetworkLanes(Small, NoBatchStatistics, lanes: 2, torchThreads: 1);
        // Rows of the wrong size: every lane refuses them.
        var bad = rows.Select(r => r[..^1]).ToArray();
        var e = Assert.Throws<ArgumentException>(() => split.TrainStep(batch, index, bad));
        Assert.Contains("expected", e.Message);
        Assert.True(float.IsFinite(split.TrainStep(batch, index, rows).Loss));
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 + 1e-5 * Math.Abs(expected[i]),
                $"{what}[{i}]: whole batch {expected[i]:R}, lanes {actual[i]:R}");
    }
}
