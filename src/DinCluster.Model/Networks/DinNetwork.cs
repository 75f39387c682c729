using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using DinCluster.Model.Layers;
using DinCluster.Model.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DinCluster.Model.Networks;

/// <summary>
/// DIN (or its base preset) over embedding rows pulled from the parameter servers. The network
/// owns only the dense weights and the Dice running statistics; it owns no optimizer. The dense
/// weights travel as one flat float array in <see cref="DenseLayout"/> order.
/// <para>
/// Forward, per batch of B samples, histories packed to N valid positions:
/// <code>
///   q   = [e(item_id), e(category_id)]                 [B, E]   E = sum of the pairs' dims
///   k_t = [e(hist_item_t), e(hist_category_t)]         [N, E]
///   a_t = attention([q, k_t, q - k_t, q * k_t])        [N]      (softmax over a sample's positions if set)
///   v   = sum_t a_t * k_t                              [B, E]   (base: sum_t k_t)
///   x   = [other sparse, sum-pooled other varlen, dense, v, q]
///   p   = sigmoid(mlp(x))                              loss = mean BCE(logit, label)
/// </code>
/// </para>
/// Not thread-safe: one instance per worker thread. Every public step runs in its own dispose scope.
/// </summary>
public sealed class DinNetwork : nn.Module, IBatchScorer
{
    private readonly Mlp? _attention;
    private readonly Mlp _mlp;
    private readonly ScalarType _dtype;
    private readonly (int Sparse, int VarLen)[] _pairs;
    private readonly int[] _otherSparse;
    private readonly int[] _otherVarLen;
    private readonly RowGroups _groups;
    private readonly Parameter[] _dense;
    private readonly Tensor[] _buffers;

    public FeatureSchema Schema { get; }
    public ModelSettings Settings { get; }
    public ModelPrecision Precision { get; }

    /// <summary>Names and shapes of the dense parameters, in the order of the flat arrays.</summary>
    public ParameterLayout DenseLayout { get; }

    /// <summary>Names and shapes of the Dice running statistics (empty without Dice).</summary>
    public ParameterLayout BufferLayout { get; }

    public DinNetwork(FeatureSchema schema, ModelSettings settings, ModelPrecision precision = ModelPrecision.Float32)
        : base("din")
    {
        settings.Validate();
        Schema = schema;
        Settings = settings;
        Precision = precision;
        _dtype = precision == ModelPrecision.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        DenseLayout = DinLayout.Dense(schema, settings);
        BufferLayout = DinLayout.Buffers(schema, settings);

        _pairs = schema.HistoryPairs.Select(p => (schema.SparseIndex(p.Query), schema.VarLenIndex(p.History))).ToArray();
        _otherSparse = schema.OtherSparse.Select(s => schema.SparseIndex(s.Name)).ToArray();
        _otherVarLen = schema.OtherVarLen.Select(v => schema.VarLenIndex(v.Name)).ToArray();
        _groups = new RowGroups(schema);

        var random = new InitRandom(settings.Seed);
        if (settings.Preset == ModelPreset.Din)
        {
            _attention = new Mlp(4 * DinLayout.QueryWidth(schema), settings.AttentionHidden, settings.AttentionActivation, _dtype, random);
            register_module("attention", _attention);
        }
        _mlp = new Mlp(DinLayout.MlpInputWidth(schema), settings.MlpHidden, settings.MlpActivation, _dtype, random);
        register_module("mlp", _mlp);

        var parameters = named_parameters().ToList();
        var buffers = named_buffers().ToList();
        CheckLayout(DenseLayout, parameters.Select(p => (p.name, p.parameter.shape)));
        CheckLayout(BufferLayout, buffers.Select(b => (b.name, b.buffer.shape)));
        _dense = parameters.Select(p => p.parameter).ToArray();
        _buffers = buffers.Select(b => b.buffer).ToArray();
    }

    /// <summary>
    /// Forward and backward on one batch. <paramref name="rows"/>[t] holds the pulled rows of
    /// table t (schema.Tables order), UniqueIds[t].Length x dim floats in UniqueIds order.
    /// Updates the Dice running statistics; leaves the dense weights alone.
    /// </summary>
    public TrainStepResult TrainStep(Batch batch, BatchIndex index, float[][] rows)
    {
        CheckInputs(batch, index, rows);
        using var scope = NewDisposeScope();
        zero_grad();
        var inputs = BuildInputs(batch, index);
        var leaves = RowTensors(inputs, rows, requiresGrad: true);
        var logits = Logits(inputs, leaves, training: true);
        var loss = nn.functional.binary_cross_entropy_with_logits(logits, inputs.Labels);
        loss.backward();

        var denseGradient = new float[DenseLayout.Total];
        for (var i = 0; i < _dense.Length; i++)
        {
            var slot = DenseLayout.Slots[i];
            // An unused parameter (no history in the whole batch) has no gradient: it stays 0.
            if (_dense[i].grad is { } g) TensorData.CopyTo(g, denseGradient.AsSpan(slot.Offset, slot.Count));
        }
        var gradients = leaves.Select(l => l.grad).ToArray();
        var rowGradients = new float[rows.Length][];
        for (var t = 0; t < rows.Length; t++)
        {
            rowGradients[t] = GC.AllocateUninitializedArray<float>(rows[t].Length);
            TensorData.CopyTo(TableRows(inputs, gradients, t), rowGradients[t]);
        }
        return new TrainStepResult(
            (float)loss.ToDouble(),
            TensorData.ToFloats(logits.detach().sigmoid()),
            denseGradient,
            rowGradients);
    }

    /// <summary>Loss and predictions without gradients; Dice normalises with its running statistics.</summary>
    public Evaluation Evaluate(Batch batch, BatchIndex index, float[][] rows)
    {
        CheckInputs(batch, index, rows);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var inputs = BuildInputs(batch, index);
        var logits = Logits(inputs, RowTensors(inputs, rows, requiresGrad: false), training: false);
        var loss = nn.functional.binary_cross_entropy_with_logits(logits, inputs.Labels);
        return new Evaluation((float)loss.ToDouble(), TensorData.ToFloats(logits.sigmoid()));
    }

    /// <summary>Click probabilities, inference mode (as <see cref="Evaluate"/>).</summary>
    public float[] Predict(Batch batch, BatchIndex index, float[][] rows) => Evaluate(batch, index, rows).Predictions;

    /// <summary>The dense parameters as one flat float array in <see cref="DenseLayout"/> order.</summary>
    public float[] GetDense() => Flatten(_dense, DenseLayout);

    /// <summary>Overwrites the dense parameters from a flat array in <see cref="DenseLayout"/> order.</summary>
    public void SetDense(float[] values) => Assign(_dense, DenseLayout, values, "dense parameters");

    /// <summary>The Dice running statistics in <see cref="BufferLayout"/> order.</summary>
    public float[] GetBuffers() => Flatten(_buffers, BufferLayout);

    public void SetBuffers(float[] values) => Assign(_buffers, BufferLayout, values, "buffers");

    /// <summary>The parameter tensors in <see cref="DenseLayout"/> order (for the gradient check).</summary>
    internal IReadOnlyList<Parameter> DenseParameters => _dense;

    internal BatchInputs BuildInputs(Batch batch, BatchIndex index) =>
        BatchInputs.Build(batch, index, Schema, _groups, _dtype, withGrid: _attention is not null && Settings.AttentionSoftmax);

    /// <summary>
    /// The pulled rows, one [rows, dim] tensor per row group (tables of one width stacked), in the
    /// model's dtype; the leaves of the autograd graph when training.
    /// </summary>
    internal Tensor[] RowTensors(BatchInputs inputs, float[][] rows, bool requiresGrad)
    {
        var groups = new Tensor[_groups.GroupDim.Length];
        for (var g = 0; g < groups.Length; g++)
        {
            var dim = _groups.GroupDim[g];
            var group = empty([inputs.GroupRows[g], dim], ScalarType.Float32);
            for (var t = 0; t < rows.Length; t++)
                if (_groups.TableGroup[t] == g) TensorData.CopyInto(rows[t], group, inputs.RowOffset[t] * dim);
            groups[g] = _dtype == ScalarType.Float32 ? group : group.to(_dtype);
            if (requiresGrad) groups[g].requires_grad_(true);
        }
        return groups;
    }

    /// <summary>Table t's rows inside its group tensor (a view); a group without gradient reads as zeros.</summary>
    internal Tensor TableRows(BatchInputs inputs, Tensor?[] groups, int t)
    {
        var g = _groups.TableGroup[t];
        return groups[g] is { } group
            ? group.narrow(0, inputs.RowOffset[t], inputs.TableRows[t])
            : zeros([inputs.TableRows[t], _groups.GroupDim[g]], _dtype);
    }

    /// <summary>Logits [B] from the row group tensors.</summary>
    internal Tensor Logits(BatchInputs inputs, Tensor[] rows, bool training)
    {
        var pieces = new Tensor[rows.Length][];
        for (var g = 0; g < rows.Length; g++)
            if (inputs.Gathers[g].Index is { } gather)
                pieces[g] = rows[g].index_select(0, gather).split(inputs.Gathers[g].Sizes, 0);
        Tensor Piece((int Group, int Piece) at) => pieces[at.Group][at.Piece];
        static Tensor Concat(IEnumerable<Tensor> parts) => cat(parts.ToList(), 1);

        var count = inputs.Count;
        // Paired histories have equal lengths per sample, so the first pair's positions serve all.
        var history = inputs.VarLen[_pairs[0].VarLen];
        var q = inputs.PairQuery.Group >= 0
            ? Piece(inputs.PairQuery).view(count, -1)
            : Concat(_pairs.Select(p => Piece(inputs.SparsePiece[p.Sparse])));
        Tensor v;
        if (history.Positions == 0)
        {
            v = zeros([count, q.shape[1]], _dtype);
        }
        else
        {
            var keys = inputs.PairKeys.Group >= 0
                ? Piece(inputs.PairKeys).view(history.Positions, -1)
                : Concat(_pairs.Select(p => Piece(inputs.VarLenPiece[p.VarLen])));
            if (_attention is null)
            {
                v = AttentionPooling.SumPool(keys, history, count);
            }
            else
            {
                var scores = AttentionPooling.Scores(_attention, q, keys, history, training);
                if (Settings.AttentionSoftmax) scores = AttentionPooling.MaskedSoftmax(scores, history, count);
                v = AttentionPooling.Pool(scores, keys, history, count);
            }
        }

        var x = new List<Tensor>();
        foreach (var f in _otherSparse) x.Add(Piece(inputs.SparsePiece[f]));
        foreach (var f in _otherVarLen) x.Add(AttentionPooling.SumPool(Piece(inputs.VarLenPiece[f]), inputs.VarLen[f], count));
        x.AddRange(inputs.Dense);
        x.Add(v);
        x.Add(q);
        return _mlp.Forward(cat(x, 1), training).view(-1);
    }

    private void CheckInputs(Batch batch, BatchIndex index, float[][] rows)
    {
        if (batch.Count == 0) throw new ArgumentException($"batch {batch.BatchId} is empty", nameof(batch));
        batch.Validate(Schema);
        if (index.UniqueIds.Length != Schema.Tables.Count || rows.Length != Schema.Tables.Count)
            throw new ArgumentException($"batch {batch.BatchId}: {rows.Length} row tables and {index.UniqueIds.Length} id tables for a schema of {Schema.Tables.Count} tables", nameof(rows));
        for (var t = 0; t < rows.Length; t++)
        {
            var expected = (long)index.UniqueIds[t].Length * Schema.Tables[t].Dim;
            if (rows[t].Length != expected)
                throw new ArgumentException($"batch {batch.BatchId}: table '{Schema.Tables[t].Name}' has {rows[t].Length} floats, expected {index.UniqueIds[t].Length} ids x {Schema.Tables[t].Dim}", nameof(rows));
        }
    }

    private static void CheckLayout(ParameterLayout layout, IEnumerable<(string Name, long[] Shape)> actual)
    {
        var list = actual.ToList();
        var same = list.Count == layout.Slots.Count
            && list.Zip(layout.Slots).All(p => p.First.Name == p.Second.Name && p.First.Shape.SequenceEqual(p.Second.Shape));
        if (!same)
            throw new InvalidOperationException($"module tensors [{string.Join(", ", list.Select(p => p.Name))}] do not match the layout [{layout}]");
    }

    private static float[] Flatten(IReadOnlyList<Tensor> tensors, ParameterLayout layout)
    {
        using var scope = NewDisposeScope();
        var values = new float[layout.Total];
        for (var i = 0; i < tensors.Count; i++)
            TensorData.CopyTo(tensors[i].detach(), values.AsSpan(layout.Slots[i].Offset, layout.Slots[i].Count));
        return values;
    }

    private static void Assign(IReadOnlyList<Tensor> tensors, ParameterLayout layout, float[] values, string what)
    {
        if (values.Length != layout.Total)
            throw new ArgumentException($"{values.Length} values for {layout.Total} {what}", nameof(values));
        for (var i = 0; i < tensors.Count; i++)
            TensorData.Assign(tensors[i], values.AsSpan(layout.Slots[i].Offset, layout.Slots[i].Count));
    }
}
