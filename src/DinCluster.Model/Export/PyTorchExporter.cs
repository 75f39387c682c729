using DinCluster.Core.Batches;
using DinCluster.Model.Networks;
using DinCluster.Model.Training;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace DinCluster.Model.Export;

/// <summary>
/// Writes a trained model as a PyTorch state_dict (.pt, the zip format <c>torch.save</c> writes and
/// <c>torch.load(path, weights_only=True)</c> reads), float32, keys as in DESIGN.md:
/// <code>
///   attention.fc.{i}.weight [out, in]   attention.act.{i}.alpha / running_mean / running_var [C]
///   attention.out.weight [1, last]      mlp.* likewise
///   embedding.{table}.ids [N] int64     embedding.{table}.weight [N, dim]  (row r belongs to ids[r])
/// </code>
/// The embedding rows come from the caller (the parameter servers own them).
/// </summary>
public static class PyTorchExporter
{
    /// <summary>PyBridge keeps each tensor's bytes in one span, so one tensor is limited to 2 GiB.</summary>
    public const long MaxTensorBytes = int.MaxValue;

    public static void Write(string path, DinNetwork network, IEnumerable<TableRows> tables) =>
        Write(path, network.DenseLayout, network.GetDense(), network.BufferLayout, network.GetBuffers(), tables);

    /// <summary>
    /// Writes dense weights and buffers (flat, in their layouts' order) and the embedding tables.
    /// Goes through a temporary file and a rename, so <paramref name="path"/> is never half-written.
    /// </summary>
    public static void Write(
        string path,
        ParameterLayout denseLayout,
        float[] dense,
        ParameterLayout bufferLayout,
        float[] buffers,
        IEnumerable<TableRows> tables)
    {
        Check(denseLayout, dense, "dense weights");
        Check(bufferLayout, buffers, "buffers");
        using var scope = NewDisposeScope();
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var slot in denseLayout.Slots)
            state.Add(slot.Name, TensorData.FromFloats(dense.AsSpan(slot.Offset, slot.Count), slot.Shape, ScalarType.Float32));
        foreach (var slot in bufferLayout.Slots)
            state.Add(slot.Name, TensorData.FromFloats(buffers.AsSpan(slot.Offset, slot.Count), slot.Shape, ScalarType.Float32));
        foreach (var table in tables)
        {
            if (table.Values.Length != (long)table.Ids.Length * table.Dim)
                throw new ArgumentException($"table '{table.Table}': {table.Values.Length} floats for {table.Ids.Length} ids x {table.Dim}", nameof(tables));
            if (4L * table.Values.Length > MaxTensorBytes)
                throw new NotSupportedException($"table '{table.Table}' is {4L * table.Values.Length} bytes, over the {MaxTensorBytes} bytes a .pt tensor can hold here; export it as Parquet");
            if (!state.TryAdd($"embedding.{table.Table}.ids", TensorData.FromLongs(table.Ids)))
                throw new ArgumentException($"table '{table.Table}' is given twice", nameof(tables));
            state.Add($"embedding.{table.Table}.weight", TensorData.FromFloats(table.Values, [table.Ids.Length, table.Dim], ScalarType.Float32));
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = File.Create(temporary))
                PyTorchPickler.PickleStateDict(stream, state, leaveOpen: false);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Reads a .pt state_dict back into arrays (float32 and int64 tensors).</summary>
    public static IReadOnlyDictionary<string, ExportedTensor> Read(string path)
    {
        using var scope = NewDisposeScope();
        var state = PyTorchUnpickler.UnpickleStateDict(path);
        var result = new Dictionary<string, ExportedTensor>(StringComparer.Ordinal);
        foreach (var key in state.Keys)
        {
            var name = (string)key;
            var t = (Tensor)state[key]!;
            var shape = t.shape;
            result.Add(name, t.dtype switch
            {
                ScalarType.Float32 => new ExportedTensor(ExportedTensor.Float32, shape, TensorData.ToFloats(t), []),
                ScalarType.Int64 => new ExportedTensor(ExportedTensor.Int64, shape, [], TensorData.ToLongs(t)),
                _ => throw new InvalidDataException($"{path}: tensor '{name}' is {t.dtype}; an export holds float32 and int64 only"),
            });
        }
        return result;
    }

    private static void Check(ParameterLayout layout, float[] values, string what)
    {
        if (values.Length != layout.Total)
            throw new ArgumentException($"{values.Length} {what} for a layout of {layout.Total}", nameof(values));
    }
}

/// <summary>One tensor of an exported state_dict: float32 values in Floats, or int64 values in Longs.</summary>
public sealed record ExportedTensor(string DType, long[] Shape, float[] Floats, long[] Longs)
{
    public const string Float32 = "float32";
    public const string Int64 = "int64";
}
