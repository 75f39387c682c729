using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using DinCluster.Model.Networks;
using DinCluster.Model.Tests.Support;
using DinCluster.Model.Training;
using Xunit.Abstractions;

namespace DinCluster.Model.Tests.Networks;

[Collection(TorchCollection.Name)]
public sealed class DinNetworkTests(ITestOutputHelper output)
{
    private static readonly FeatureSchema Small = FeatureSchema.Default(dim: 4, maxLen: 8);
    private static readonly ModelSettings SmallSettings = new() { AttentionHidden = [6, 4], MlpHidden = [5, 3] };

    [Fact]
    public void DenseLayout_uses_the_export_keys_and_paper_shapes_when_schema_and_settings_are_default()
    {
        var layout = DinLayout.Dense(FeatureSchema.Default(), new ModelSettings());

        Assert.Equal(320, DinLayout.MlpInputWidth(FeatureSchema.Default()));
        Assert.Equal(
            [
                ("attention.fc.0.weight", new long[] { 80, 512 }), ("attention.fc.0.bias", [80]),
                ("attention.fc.1.weight", [40, 80]), ("attention.fc.1.bias", [40]),
                ("attention.out.weight", [1, 40]), ("attention.out.bias", [1]),
                ("mlp.fc.0.weight", [200, 320]), ("mlp.fc.0.bias", [200]),
                ("mlp.fc.1.weight", [80, 200]), ("mlp.fc.1.bias", [80]),
                ("mlp.act.0.alpha", [200]), ("mlp.act.1.alpha", [80]),
                ("mlp.out.weight", [1, 80]), ("mlp.out.bias", [1]),
            ],
            layout.Slots.Select(s => (s.Name, s.Shape)));
        Assert.Equal(layout.Slots.Sum(s => s.Count), layout.Total);
        Assert.Equal(
            ["mlp.act.0.running_mean", "mlp.act.0.running_var", "mlp.act.1.running_mean", "mlp.act.1.running_var"],
            DinLayout.Buffers(FeatureSchema.Default(), new ModelSettings()).Slots.Select(s => s.Name));
    }

    [Fact]
    public void Network_has_no_attention_parameters_when_preset_is_base()
    {
        using var net = new DinNetwork(Small, SmallSettings with { Preset = ModelPreset.Base });
        Assert.All(net.DenseLayout.Slots, s => Assert.StartsWith("mlp.", s.Name));
        Assert.Equal(net.DenseLayout.Total, net.GetDense().Length);
    }

    [Fact]
    public void Settings_validation_names_the_setting_when_a_width_is_not_positive()
    {
        var e = Assert.Throws<ArgumentException>(() => (SmallSettings with { MlpHidden = [5, 0] }).Validate());
        Assert.Contains("MlpHidden is set to [5, 0]", e.Message);
    }

    [Fact]
    public void SetDense_then_GetDense_round_trips_and_rejects_a_wrong_length()
    {
        using var net = new DinNetwork(Small, SmallSettings with { AttentionActivation = Activation.Dice });
        var values = TestData.RandomVector(net.DenseLayout.Total, 31, 1);
        net.SetDense(values);
        Assert.Equal(values, net.GetDense());
        var buffers = TestData.RandomVector(net.BufferLayout.Total, 32, 1);
        net.SetBuffers(buffers);
        Assert.Equal(buffers, net.GetBuffers());
        Assert.Throws<ArgumentException>(() => net.SetDense(new float[values.Length - 1]));
    }

    [Fact]
    public void Network_initialises_identically_when_seed_is_the_same_and_differently_when_not()
    {
        using var a = new DinNetwork(Small, SmallSettings with { Seed = 5 });
        using var b = new DinNetwork(Small, SmallSettings with { Seed = 5 });
        using var c = new DinNetwork(Small, SmallSettings with { Seed = 6 });
        Assert.Equal(a.GetDense(), b.GetDense());
        Assert.NotEqual(a.GetDense(), c.GetDense());
    }

    [Fact]
    public void TrainStep_returns_identical_results_when_seed_and_batch_are_the_same()
    {
        const int seed = 41;
        output.WriteLine($"seed {seed}");
        var batch = TestData.Random(Small, [3, 0, 5, 1, 8, 2], seed);
        var index = BatchIndex.Build(batch, Small);
        var rows = TestData.Rows(Small, index, seed);
        TrainStepResult Run()
        {
            using var net = new DinNetwork(Small, SmallSettings with { Seed = seed, AttentionActivation = Activation.Dice });
            net.TrainStep(batch, index, rows);
            return net.TrainStep(batch, index, rows);
        }

        var first = Run();
        var second = Run();

        Assert.Equal(first.Loss, second.Loss);
        Assert.Equal(first.Predictions, second.Predictions);
        Assert.Equal(first.DenseGradient, second.DenseGradient);
        for (var t = 0; t < first.RowGradients.Length; t++) Assert.Equal(first.RowGradients[t], second.RowGradients[t]);
    }

    [Fact]
    public void TrainStep_sums_the_gradient_rows_of_an_id_when_it_occurs_several_times()
    {
        // Item 7 occurs four times (a target, and in two histories, twice in one). The split batch
        // gives each occurrence its own id (7, 107, 207, 307) with the same row: same function,
        // so the merged row gradient must be the sum of the split ones.
        var merged = TestData.Explicit(
            (1, 7, 2, [7, 3], [2, 1], 1),
            (1, 3, 1, [7, 7, 5], [2, 2, 0], 0));
        var split = TestData.Explicit(
            (1, 7, 2, [107, 3], [2, 1], 1),
            (1, 3, 1, [207, 307, 5], [2, 2, 0], 0));
        float[] Row(int table, long id) => TestData.RandomVector(4, 1000 * table + (int)(id % 100), 0.5);

        using var net = new DinNetwork(Small, SmallSettings, ModelPrecision.Float64);
        var mergedIndex = BatchIndex.Build(merged, Small);
        var splitIndex = BatchIndex.Build(split, Small);
        var buffers = net.GetBuffers();
        var a = net.TrainStep(merged, mergedIndex, TestData.Rows(Small, mergedIndex, Row));
        net.SetBuffers(buffers);
        var b = net.TrainStep(split, splitIndex, TestData.Rows(Small, splitIndex, Row));

        var item = Small.TableIndex("item");
        var sum = new float[4];
        foreach (var id in new long[] { 7, 107, 207, 307 })
        {
            var g = TestData.RowOf(Small, splitIndex, b.RowGradients, item, id);
            for (var j = 0; j < 4; j++) sum[j] += g[j];
        }
        Assert.Equal(a.Loss, b.Loss, 6);
        AssertClose(a.DenseGradient, b.DenseGradient, 1e-6);
        AssertClose(sum, TestData.RowOf(Small, mergedIndex, a.RowGradients, item, 7), 1e-6);
        Assert.Contains(TestData.RowOf(Small, mergedIndex, a.RowGradients, item, 7), v => Math.Abs(v) > 1e-4);
    }

    [Fact]
    public void TrainStep_pools_nothing_and_leaves_attention_gradients_zero_when_every_history_is_empty()
    {
        const int seed = 42;
        output.WriteLine($"seed {seed}");
        using var net = new DinNetwork(Small, SmallSettings with { Seed = seed, AttentionActivation = Activation.Dice });
        var batch = TestData.Random(Small, [0, 0, 0], seed);
        var index = BatchIndex.Build(batch, Small);
        var buffers = net.GetBuffers();

        var step = net.TrainStep(batch, index, TestData.Rows(Small, index, seed));

        Assert.True(float.IsFinite(step.Loss));
        Assert.All(step.Predictions, p => Assert.InRange(p, 0f, 1f));
        foreach (var slot in net.DenseLayout.Slots.Where(s => s.Name.StartsWith("attention.", StringComparison.Ordinal)))
            Assert.All(step.DenseGradient.AsSpan(slot.Offset, slot.Count).ToArray(), g => Assert.Equal(0f, g));
        Assert.Contains(step.DenseGradient, g => g != 0);
        // The attention unit never ran, so its running statistics did not move.
        var after = net.GetBuffers();
        foreach (var slot in net.BufferLayout.Slots.Where(s => s.Name.StartsWith("attention.", StringComparison.Ordinal)))
            Assert.Equal(buffers.AsSpan(slot.Offset, slot.Count).ToArray(), after.AsSpan(slot.Offset, slot.Count).ToArray());
    }

    [Fact]
    public void TrainStep_moves_the_running_statistics_but_not_the_dense_weights()
    {
        const int seed = 43;
        output.WriteLine($"seed {seed}");
        using var net = new DinNetwork(Small, SmallSettings with { Seed = seed, AttentionActivation = Activation.Dice });
        var batch = TestData.Random(Small, [2, 4, 1], seed);
        var index = BatchIndex.Build(batch, Small);
        var dense = net.GetDense();
        var buffers = net.GetBuffers();

        net.TrainStep(batch, index, TestData.Rows(Small, index, seed));

        Assert.Equal(dense, net.GetDense());
        Assert.NotEqual(buffers, net.GetBuffers());
    }

    [Fact]
    public void Predict_scores_a_sample_independently_of_its_batch_when_inferring()
    {
        const int seed = 44;
        output.WriteLine($"seed {seed}");
        using var net = new DinNetwork(Small, SmallSettings with { Seed = seed, AttentionActivation = Activation.Dice });
        var batch = TestData.Random(Small, [3, 0, 5, 1, 6], seed);
        var index = BatchIndex.Build(batch, Small);
        var rows = TestData.Rows(Small, index, seed);
        for (var i = 0; i < 3; i++) net.TrainStep(batch, index, rows);

        var together = net.Predict(batch, index, rows);
        var evaluation = net.Evaluate(batch, index, rows);

        Assert.Equal(together, evaluation.Predictions);
        for (var i = 0; i < batch.Count; i++)
        {
            var alone = batch.Slice(i, 1, i);
            var aloneIndex = BatchIndex.Build(alone, Small);
            Assert.Equal(together[i], net.Predict(alone, aloneIndex, TestData.Rows(Small, aloneIndex, seed))[0], 6);
        }
        var expectedLoss = -together.Select((p, i) => batch.Labels[i] > 0 ? Math.Log(p) : Math.Log(1 - p)).Average();
        Assert.Equal(expectedLoss, evaluation.Loss, 5);
    }

    [Fact]
    public void TrainStep_rejects_rows_when_a_table_has_the_wrong_number_of_floats()
    {
        using var net = new DinNetwork(Small, SmallSettings);
        var batch = TestData.Random(Small, [1, 2], 45);
        var index = BatchIndex.Build(batch, Small);
        var rows = TestData.Rows(Small, index, 45);
        rows[1] = rows[1][..^1];
        var e = Assert.Throws<ArgumentException>(() => net.TrainStep(batch, index, rows));
        Assert.Contains("table 'item'", e.Message);
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }
}
