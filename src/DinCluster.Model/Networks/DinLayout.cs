using DinCluster.Core.Features;

namespace DinCluster.Model.Networks;

/// <summary>
/// The dense-parameter and buffer layouts of a network, computed from schema and settings alone
/// (no libtorch), so the dense optimizer and the exporter can size and name the flat arrays.
/// Names are the state_dict keys of DESIGN.md; the order is fc layers, then activations, then out,
/// attention before mlp.
/// </summary>
public static class DinLayout
{
    public static ParameterLayout Dense(FeatureSchema schema, ModelSettings settings) =>
        new(Towers(schema, settings).SelectMany(t => TowerParameters(t.Prefix, t.Input, t.Hidden, t.Activation)));

    public static ParameterLayout Buffers(FeatureSchema schema, ModelSettings settings) =>
        new(Towers(schema, settings).SelectMany(t => TowerBuffers(t.Prefix, t.Hidden, t.Activation)));

    /// <summary>Width of q (and of every key k_t and of v): the pairs' embedding dims concatenated.</summary>
    public static int QueryWidth(FeatureSchema schema) =>
        schema.HistoryPairs.Sum(p => schema.TableDim(schema.Sparse[schema.SparseIndex(p.Query)].Table));

    /// <summary>Width of x = [other sparse, pooled other varlen, dense, v, q]; 320 for the default schema.</summary>
    public static int MlpInputWidth(FeatureSchema schema) =>
        schema.OtherSparse.Sum(s => s.Dim)
        + schema.OtherVarLen.Sum(v => schema.TableDim(v.Table))
        + schema.Dense.Sum(d => d.Dimension)
        + 2 * QueryWidth(schema);

    private static IEnumerable<(string Prefix, int Input, IReadOnlyList<int> Hidden, Activation Activation)> Towers(
        FeatureSchema schema, ModelSettings settings)
    {
        settings.Validate();
        if (settings.Preset == ModelPreset.Din)
            yield return ("attention", 4 * QueryWidth(schema), settings.AttentionHidden, settings.AttentionActivation);
        yield return ("mlp", MlpInputWidth(schema), settings.MlpHidden, settings.MlpActivation);
    }

    private static IEnumerable<(string, long[])> TowerParameters(string prefix, int input, IReadOnlyList<int> hidden, Activation activation)
    {
        var width = input;
        for (var i = 0; i < hidden.Count; i++)
        {
            yield return ($"{prefix}.fc.{i}.weight", [hidden[i], width]);
            yield return ($"{prefix}.fc.{i}.bias", [hidden[i]]);
            width = hidden[i];
        }
        if (activation is Activation.Dice or Activation.PRelu)
            for (var i = 0; i < hidden.Count; i++)
                yield return ($"{prefix}.act.{i}.alpha", [hidden[i]]);
        yield return ($"{prefix}.out.weight", [1, width]);
        yield return ($"{prefix}.out.bias", [1]);
    }

    private static IEnumerable<(string, long[])> TowerBuffers(string prefix, IReadOnlyList<int> hidden, Activation activation)
    {
        if (activation != Activation.Dice) yield break;
        for (var i = 0; i < hidden.Count; i++)
        {
            yield return ($"{prefix}.act.{i}.running_mean", [hidden[i]]);
            yield return ($"{prefix}.act.{i}.running_var", [hidden[i]]);
        }
    }
}
