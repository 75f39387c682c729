using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using DinCluster.Model.Networks;
using DinCluster.Model.Tests.Support;
using DinCluster.Model.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DinCluster.Model.Tests.Networks;

/// <summary>
/// TrainStep's gradients (dense weights and pulled rows) against central finite differences of
/// the training-mode loss in double precision. Dice in training mode normalises with batch
/// statistics, a deterministic function of the batch, so it is differentiable and checked too.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class GradientCheckTests(ITestOutputHelper output)
{
    private const double Step = 1e-6;
    private const double Tolerance = 1e-4;

    // Lengths include 0; ids come from small ranges, so items and categories repeat across and within samples.
    private static readonly int[] Lengths = [3, 0, 2, 4, 1];

    [Fact]
    public void TrainStep_gradients_match_finite_differences_when_din_uses_dice_in_both_towers() =>
        Check(FeatureSchema.Default(dim: 4, maxLen: 6), Tiny with { AttentionActivation = Activation.Dice }, seed: 11);

    [Fact]
    public void TrainStep_gradients_match_finite_differences_when_attention_uses_softmax() =>
        Check(FeatureSchema.Default(dim: 4, maxLen: 6), Tiny with { AttentionActivation = Activation.Dice, AttentionSoftmax = true }, seed: 12);

    [Fact]
    public void TrainStep_gradients_match_finite_differences_when_preset_is_base_with_extra_features() =>
        Check(TestData.Extended(dim: 4), Tiny with { Preset = ModelPreset.Base, MlpActivation = Activation.PRelu }, seed: 13);

    [Fact]
    public void TrainStep_gradients_match_finite_differences_when_din_has_extra_features_and_prelu() =>
        Check(TestData.Extended(dim: 4), Tiny with { AttentionActivation = Activation.PRelu }, seed: 14);

    [Fact]
    public void TrainStep_gradients_match_finite_differences_when_paired_tables_differ_in_width() =>
        Check(TestData.MixedWidths(), Tiny with { AttentionActivation = Activation.Dice }, seed: 15);

    private static ModelSettings Tiny => new()
    {
        AttentionHidden = [6, 4],
        MlpHidden = [5, 3],
        MlpActivation = Activation.Dice,
    };

    private void Check(FeatureSchema schema, ModelSettings settings, int seed)
    {
        output.WriteLine($"seed {seed}, settings {settings.Preset}/{settings.AttentionActivation}/softmax={settings.AttentionSoftmax}/{settings.MlpActivation}");
        using var net = new DinNetwork(schema, settings with { Seed = seed }, ModelPrecision.Float64);
        // Random weights everywhere (zero biases and alphas would be special points).
        net.SetDense(TestData.RandomVector(net.DenseLayout.Total, seed, 0.6));
        var batch = TestData.Random(schema, Lengths, seed);
        var index = BatchIndex.Build(batch, schema);
        var rows = TestData.Rows(schema, index, seed);

        var step = net.TrainStep(batch, index, rows);

        using var scope = NewDisposeScope();
        var inputs = net.BuildInputs(batch, index);
        var groups = net.RowTensors(inputs, rows, requiresGrad: false);
        double Loss()
        {
            using var inner = NewDisposeScope();
            using var noGrad = no_grad();
            return nn.functional.binary_cross_entropy_with_logits(net.Logits(inputs, groups, training: true), inputs.Labels).ToDouble();
        }

        Assert.Equal(Loss(), step.Loss, 6);
        for (var i = 0; i < net.DenseParameters.Count; i++)
        {
            var slot = net.DenseLayout.Slots[i];
            var numeric = NumericGradient(net.DenseParameters[i], Loss);
            // Softmax is shift-invariant: the score bias cannot change the loss.
            var zero = settings.AttentionSoftmax && slot.Name == "attention.out.bias";
            AssertClose(slot.Name, step.DenseGradient.AsSpan(slot.Offset, slot.Count).ToArray(), numeric, zero);
        }
        // Each table's rows are a view into its row group, so perturbing the view perturbs the input.
        for (var t = 0; t < schema.Tables.Count; t++)
            AssertClose($"rows of table {schema.Tables[t].Name}", step.RowGradients[t], NumericGradient(net.TableRows(inputs, groups, t), Loss));
    }

    /// <summary>Central differences of <paramref name="loss"/> in every element of <paramref name="target"/>, in double precision.</summary>
    private static double[] NumericGradient(Tensor target, Func<double> loss)
    {
        var values = TensorData.ToDoubles(target);
        var gradient = new double[values.Length];
        void Set(double[] v)
        {
            using var inner = NewDisposeScope();
            using var noGrad = no_grad();
            target.copy_(TensorData.FromDoubles(v, target.shape));
        }
        for (var j = 0; j < values.Length; j++)
        {
            var original = values[j];
            values[j] = original + Step;
            Set(values);
            var plus = loss();
            values[j] = original - Step;
            Set(values);
            var minus = loss();
            values[j] = original;
            gradient[j] = (plus - minus) / (2 * Step);
        }
        Set(values);
        return gradient;
    }

    private void AssertClose(string name, float[] autograd, double[] numeric, bool expectZero = false)
    {
        Assert.Equal(numeric.Length, autograd.Length);
        double diff = 0, a = 0, n = 0;
        for (var j = 0; j < numeric.Length; j++)
        {
            diff += Math.Pow(autograd[j] - numeric[j], 2);
            a += Math.Pow(autograd[j], 2);
            n += Math.Pow(numeric[j], 2);
        }
        var scale = Math.Sqrt(Math.Max(a, n));
        var error = scale < 1e-12 ? Math.Sqrt(diff) : Math.Sqrt(diff) / scale;
        output.WriteLine($"{name,-34} |g| = {Math.Sqrt(a):E3}  relative error = {error:E2}");
        if (expectZero)
        {
            Assert.True(scale < 1e-12, $"{name}: expected a zero gradient, got norm {scale:E3}");
            return;
        }
        Assert.True(scale > 1e-8, $"{name}: gradient norm {scale:E3} is ~0, the check would be vacuous");
        Assert.True(error < Tolerance, $"{name}: autograd and finite differences differ, relative error {error:E3} >= {Tolerance:E0}");
    }
}
