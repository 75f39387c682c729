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
/// The network never materialises padding (it works on packed valid positions), so masking is
/// checked two ways: against a literal padded implementation of DESIGN.md's formulas whose
/// padded positions hold garbage keys, and by widening the padding of a batch.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class MaskingTests(ITestOutputHelper output)
{
    private static readonly FeatureSchema Schema = FeatureSchema.Default(dim: 4, maxLen: 10);
    private static readonly int[] Lengths = [3, 0, 2, 5, 1, 4];

    private static readonly Dictionary<string, ModelSettings> Configurations = new()
    {
        ["din sigmoid/dice"] = new ModelSettings { AttentionHidden = [6, 4], MlpHidden = [5, 3] },
        ["din dice+softmax/prelu"] = new ModelSettings { AttentionHidden = [6, 4], AttentionActivation = Activation.Dice, AttentionSoftmax = true, MlpHidden = [5, 3], MlpActivation = Activation.PRelu },
        ["din relu/dice"] = new ModelSettings { AttentionHidden = [6], AttentionActivation = Activation.Relu, MlpHidden = [5, 3] },
        ["base"] = new ModelSettings { Preset = ModelPreset.Base, MlpHidden = [5, 3] },
    };

    public static TheoryData<string> ConfigurationNames => new(Configurations.Keys);

    [Theory]
    [MemberData(nameof(ConfigurationNames))]
    public void Logits_equal_a_padded_masked_reference_when_the_padding_holds_garbage(string name)
    {
        const int seed = 51;
        var settings = Configurations[name];
        output.WriteLine($"{name}, seed {seed}");
        using var net = new DinNetwork(Schema, settings with { Seed = seed }, ModelPrecision.Float64);
        net.SetDense(TestData.RandomVector(net.DenseLayout.Total, seed, 0.6));
        var batch = TestData.Random(Schema, Lengths, seed);
        var index = BatchIndex.Build(batch, Schema);
        var rows = TestData.Rows(Schema, index, seed);

        using var scope = NewDisposeScope();
        var inputs = net.BuildInputs(batch, index);
        var groups = net.RowTensors(inputs, rows, requiresGrad: false);
        var packed = TensorData.ToDoubles(net.Logits(inputs, groups, training: true));
        var tables = Enumerable.Range(0, Schema.Tables.Count).Select(t => net.TableRows(inputs, groups, t)).ToArray();
        // Wider than the batch needs, garbage of large magnitude in every padded slot.
        var reference = TensorData.ToDoubles(ReferenceLogits(net, batch, index, tables, width: Lengths.Max() + 3, garbage: 1e3, seed));

        for (var i = 0; i < batch.Count; i++)
            Assert.True(Math.Abs(packed[i] - reference[i]) < 1e-9, $"sample {i} (length {Lengths[i]}): packed {packed[i]:R}, padded reference {reference[i]:R}");
    }

    [Fact]
    public void Predictions_of_a_sample_do_not_change_when_another_sample_widens_the_padding()
    {
        // Sigmoid attention and PReLU MLP couple no samples (Dice's batch statistics would), so a
        // sample's prediction may depend on nothing but its own row.
        const int seed = 52;
        output.WriteLine($"seed {seed}");
        var settings = new ModelSettings { Seed = seed, AttentionHidden = [6, 4], MlpHidden = [5, 3], MlpActivation = Activation.PRelu, AttentionSoftmax = true };
        using var net = new DinNetwork(Schema, settings, ModelPrecision.Float64);
        var narrow = TestData.Random(Schema, [3, 0, 2], seed);
        var wide = Batch.Concat([narrow, TestData.Random(Schema, [10], seed + 1)], 2);
        var narrowIndex = BatchIndex.Build(narrow, Schema);
        var wideIndex = BatchIndex.Build(wide, Schema);

        var a = net.TrainStep(narrow, narrowIndex, TestData.Rows(Schema, narrowIndex, seed));
        var b = net.TrainStep(wide, wideIndex, TestData.Rows(Schema, wideIndex, seed));

        for (var i = 0; i < narrow.Count; i++) Assert.Equal(a.Predictions[i], b.Predictions[i], 6);
    }

    /// <summary>
    /// DESIGN.md's model on a padded [B, width] grid with a mask from the lengths: the unit reads
    /// [q, k, q - k, q * k] at every slot, Dice takes masked statistics, pooling multiplies by the mask.
    /// </summary>
    private static Tensor ReferenceLogits(DinNetwork net, Batch batch, BatchIndex index, Tensor[] rows, int width, double garbage, int seed)
    {
        var p = net.named_parameters().ToDictionary(x => x.name, x => (Tensor)x.parameter);
        var b = batch.Count;
        var random = new Random(seed);
        Tensor Embed(string feature)
        {
            var f = Schema.SparseIndex(feature);
            return rows[Schema.TableIndex(Schema.Sparse[f].Table)].index_select(0, tensor(index.SparseSlots[f].Select(s => (long)s).ToArray()));
        }
        Tensor PaddedKeys(string feature)
        {
            var v = Schema.VarLenIndex(feature);
            var table = rows[Schema.TableIndex(Schema.VarLen[v].Table)];
            var slots = new List<Tensor>();
            var n = 0;
            for (var i = 0; i < b; i++)
                for (var t = 0; t < width; t++)
                    slots.Add(t < batch.Lengths[v][i]
                        ? table[index.VarLenSlots[v][n++]]
                        : tensor(Enumerable.Range(0, 4).Select(_ => (random.NextDouble() * 2 - 1) * garbage).ToArray(), ScalarType.Float64));
            return stack(slots).view(b, width, 4);
        }

        var q = cat([Embed("item_id"), Embed("category_id")], 1);                       // [B, E]
        var keys = cat([PaddedKeys("hist_item_id"), PaddedKeys("hist_category_id")], 2); // [B, T, E]
        var mask = (arange(width).unsqueeze(0) < tensor(batch.Lengths[0]).unsqueeze(1)).to(ScalarType.Float64); // [B, T]

        Tensor v;
        if (net.Settings.Preset == ModelPreset.Base)
        {
            v = (keys * mask.unsqueeze(2)).sum(1);
        }
        else
        {
            var qs = q.unsqueeze(1).expand(keys.shape);
            var h = cat([qs, keys, qs - keys, qs * keys], 2).view(b * width, -1);
            var m = mask.view(-1, 1);
            for (var i = 0; i < net.Settings.AttentionHidden.Count; i++)
                h = Activate(net.Settings.AttentionActivation, nn.functional.linear(h, p[$"attention.fc.{i}.weight"], p[$"attention.fc.{i}.bias"]), p, $"attention.act.{i}", m);
            var scores = nn.functional.linear(h, p["attention.out.weight"], p["attention.out.bias"]).view(b, width);
            if (net.Settings.AttentionSoftmax)
                scores = where(mask > 0, scores, full_like(scores, double.NegativeInfinity)).softmax(1).nan_to_num(0);
            v = (keys * (scores * mask).unsqueeze(2)).sum(1);
        }
        var x = cat([Embed("user_id"), v, q], 1);
        var ones = ones_like(x.select(1, 0)).view(-1, 1);
        for (var i = 0; i < net.Settings.MlpHidden.Count; i++)
            x = Activate(net.Settings.MlpActivation, nn.functional.linear(x, p[$"mlp.fc.{i}.weight"], p[$"mlp.fc.{i}.bias"]), p, $"mlp.act.{i}", ones);
        return nn.functional.linear(x, p["mlp.out.weight"], p["mlp.out.bias"]).view(-1);
    }

    private static Tensor Activate(Activation kind, Tensor s, Dictionary<string, Tensor> p, string prefix, Tensor mask) => kind switch
    {
        Activation.Sigmoid => s.sigmoid(),
        Activation.Relu => s.relu(),
        Activation.PRelu => where(s > 0, s, s * p[$"{prefix}.alpha"]),
        Activation.Dice => MaskedDice(s, p[$"{prefix}.alpha"], mask),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    // sum(dim: 0), never sum(0): a literal 0 converts to the ScalarType overload (Byte) and sums everything.
    private static Tensor MaskedDice(Tensor s, Tensor alpha, Tensor mask)
    {
        var count = mask.sum();
        var mean = (s * mask).sum(dim: 0) / count;
        var var = ((s - mean).square() * mask).sum(dim: 0) / count;
        var prob = ((s - mean) / (var + 1e-8).sqrt()).sigmoid();
        return prob * s + (1 - prob) * alpha * s;
    }
}
