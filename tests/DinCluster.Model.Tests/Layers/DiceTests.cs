using DinCluster.Model.Layers;
using DinCluster.Model.Tests.Support;
using DinCluster.Model.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DinCluster.Model.Tests.Layers;

[Collection(TorchCollection.Name)]
public sealed class DiceTests(ITestOutputHelper output)
{
    private const int Rows = 7;
    private const int Channels = 3;

    [Fact]
    public void Dice_normalises_with_batch_statistics_and_updates_running_stats_exactly_when_training()
    {
        const int seed = 21;
        output.WriteLine($"seed {seed}");
        using var scope = NewDisposeScope();
        using var dice = new Dice(Channels, ScalarType.Float64);
        var alpha = RandomValues(Channels, seed + 1);
        TensorData.Assign(dice.Alpha, alpha.Select(a => (float)a).ToArray());
        alpha = TensorData.ToDoubles(dice.Alpha);

        var first = RandomValues(Rows * Channels, seed);
        var second = RandomValues(Rows * Channels, seed + 2).Select(v => 3 * v + 1).ToArray();
        var out1 = TensorData.ToDoubles(dice.Forward(TensorData.FromDoubles(first, [Rows, Channels]), training: true));
        var (mean1, var1) = Statistics(first);
        AssertAll(Expected(first, mean1, var1, alpha), out1, 1e-12);
        AssertAll(mean1.Select(m => 0.01 * m).ToArray(), TensorData.ToDoubles(dice.RunningMean), 1e-15);
        AssertAll(var1.Select(v => 0.99 + 0.01 * v).ToArray(), TensorData.ToDoubles(dice.RunningVar), 1e-15);

        dice.Forward(TensorData.FromDoubles(second, [Rows, Channels]), training: true);
        var (mean2, var2) = Statistics(second);
        AssertAll(mean1.Zip(mean2, (a, b) => 0.99 * (0.01 * a) + 0.01 * b).ToArray(), TensorData.ToDoubles(dice.RunningMean), 1e-15);
        AssertAll(var1.Zip(var2, (a, b) => 0.99 * (0.99 + 0.01 * a) + 0.01 * b).ToArray(), TensorData.ToDoubles(dice.RunningVar), 1e-15);
    }

    [Fact]
    public void Dice_uses_running_statistics_and_leaves_them_alone_when_inferring()
    {
        const int seed = 22;
        output.WriteLine($"seed {seed}");
        using var scope = NewDisposeScope();
        using var dice = new Dice(Channels, ScalarType.Float64);
        TensorData.Assign(dice.Alpha, [0.1f, -0.2f, 0.3f]);
        TensorData.Assign(dice.RunningMean, [0.5f, -1f, 2f]);
        TensorData.Assign(dice.RunningVar, [4f, 0.25f, 1f]);
        var x = RandomValues(Rows * Channels, seed);

        var all = TensorData.ToDoubles(dice.Forward(TensorData.FromDoubles(x, [Rows, Channels]), training: false));

        AssertAll(Expected(x, [0.5, -1, 2], [4, 0.25, 1], [0.1f, -0.2f, 0.3f]), all, 1e-12);
        // A row's output does not depend on the other rows.
        var firstRow = TensorData.ToDoubles(dice.Forward(TensorData.FromDoubles(x.AsSpan(0, Channels), [1, Channels]), training: false));
        AssertAll(all.Take(Channels).ToArray(), firstRow, 0);
        AssertAll([0.5, -1, 2], TensorData.ToDoubles(dice.RunningMean), 0);
        AssertAll([4, 0.25, 1], TensorData.ToDoubles(dice.RunningVar), 0);
    }

    [Fact]
    public void PRelu_scales_negative_inputs_by_alpha_which_starts_at_a_quarter()
    {
        using var scope = NewDisposeScope();
        using var prelu = new PRelu(2, ScalarType.Float32);
        var y = TensorData.ToFloats(prelu.Forward(TensorData.FromFloats([-2f, 3f, 4f, -8f], [2, 2], ScalarType.Float32), training: true));
        Assert.Equal([-0.5f, 3f, 4f, -2f], y);
    }

    private static double[] Expected(double[] x, double[] mean, double[] var, IReadOnlyList<double> alpha)
    {
        var y = new double[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            var c = i % Channels;
            var p = 1 / (1 + Math.Exp(-(x[i] - mean[c]) / Math.Sqrt(var[c] + 1e-8)));
            y[i] = p * x[i] + (1 - p) * alpha[c] * x[i];
        }
        return y;
    }

    private static double[] Expected(double[] x, double[] mean, double[] var, float[] alpha) =>
        Expected(x, mean, var, alpha.Select(a => (double)a).ToArray());

    /// <summary>Per-channel mean and population variance of a [Rows, Channels] row-major array.</summary>
    private static (double[] Mean, double[] Var) Statistics(double[] x)
    {
        var mean = new double[Channels];
        var var = new double[Channels];
        for (var i = 0; i < x.Length; i++) mean[i % Channels] += x[i] / Rows;
        for (var i = 0; i < x.Length; i++) var[i % Channels] += Math.Pow(x[i] - mean[i % Channels], 2) / Rows;
        return (mean, var);
    }

    private static double[] RandomValues(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.NextDouble() * 2 - 1).ToArray();
    }

    private static void AssertAll(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }
}
