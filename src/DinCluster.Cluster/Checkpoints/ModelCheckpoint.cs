using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using DinCluster.Core.Checkpoints;
using DinCluster.Core.Embeddings;
using DinCluster.Core.Features;
using DinCluster.Core.Optimizers;
using DinCluster.Model.Networks;

namespace DinCluster.Cluster.Checkpoints;

/// <summary>
/// A trained model's checkpoint folder, as written by <see cref="CheckpointStore"/>:
/// <code>
///   manifest.json                      step, epoch, SHA-256 of every file (written last)
///   model.json                         feature schema, model, embedding and dense-optimizer settings
///   dense.bin                          dense weights + Adam state + Dice running statistics
///   progress.json                      epoch, step, data offsets, epoch ledger (what --resume continues from)
///   embeddings-SSS-of-NNN.snap         one snapshot per embedding shard (re-shardable on restore)
/// </code>
/// </summary>
public static class ModelCheckpoint
{
    private const uint DenseMagic = 0x444E4944; // "DIND"
    private const int DenseVersion = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>A checkpoint of an in-process model (the local trainer).</summary>
    public static string Save(
        CheckpointStore store, long step, int epoch, bool epochComplete,
        FeatureSchema schema, ModelSettings model, EmbeddingSettings embeddings, AdamSettings dense,
        DenseState denseState, float[] buffers, ShardedEmbeddings tables, TrainingProgress? progress = null)
    {
        var pending = store.Begin(step);
        tables.WriteSnapshot(pending.Directory);
        return Commit(pending, epoch, epochComplete, schema, model, embeddings, dense, denseState, buffers, tables.Shards.Count, progress);
    }

    /// <summary>PS snapshot name of shard <paramref name="shard"/> of <paramref name="shards"/> (what Load looks for).</summary>
    public static string SnapshotName(int shard, int shards) => $"embeddings-{shard:D3}-of-{shards:D3}.snap";

    /// <summary>
    /// Completes a checkpoint whose embedding snapshots are already in <paramref name="pending"/>
    /// (written by the PS shards in a cluster): adds model.json and dense.bin, then commits.
    /// </summary>
    public static string Commit(
        PendingCheckpoint pending, int epoch, bool epochComplete,
        FeatureSchema schema, ModelSettings model, EmbeddingSettings embeddings, AdamSettings dense,
        DenseState denseState, float[] buffers, int psShards, TrainingProgress? progress = null)
    {
        WriteModelJson(pending.PathOf("model.json"), schema, model, embeddings, dense);
        WriteDense(pending.PathOf("dense.bin"), denseState, buffers);
        progress?.Write(pending.PathOf(TrainingProgress.FileName));
        var manifest = new CheckpointManifest { Epoch = epoch, EpochComplete = epochComplete };
        manifest.Meta["ps_shards"] = psShards.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return pending.Commit(manifest);
    }

    public static void WriteModelJson(string path, FeatureSchema schema, ModelSettings model, EmbeddingSettings embeddings, AdamSettings dense)
    {
        var root = new JsonObject
        {
            ["schema"] = FeatureSchemaJson.ToJson(schema),
            ["model"] = JsonSerializer.SerializeToNode(model, Json),
            ["embeddings"] = JsonSerializer.SerializeToNode(embeddings, Json),
            ["dense_optimizer"] = JsonSerializer.SerializeToNode(dense, Json),
        };
        File.WriteAllText(path, root.ToJsonString(Json));
    }

    public static void WriteDense(string path, DenseState state, float[] buffers)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write(DenseMagic);
        w.Write(DenseVersion);
        w.Write(state.Step);
        WriteFloats(w, state.Values);
        WriteFloats(w, state.M);
        WriteFloats(w, state.V);
        WriteFloats(w, buffers);
    }

    /// <summary>
    /// Finds the checkpoint a user means: a checkpoint folder itself, a checkpoints folder, or a
    /// run folder (RUN/checkpoints). Returns the newest one that verifies.
    /// </summary>
    public static string Resolve(string path, Action<string, string>? refused = null)
    {
        if (File.Exists(Path.Combine(path, "manifest.json"))) return path;
        var root = Directory.Exists(Path.Combine(path, "checkpoints")) ? Path.Combine(path, "checkpoints") : path;
        if (!Directory.Exists(root)) throw new FileNotFoundException($"no checkpoint at {path}");
        var latest = new CheckpointStore(root).Latest(refused)
            ?? throw new FileNotFoundException($"no valid checkpoint under {root}");
        return latest.Directory;
    }

    /// <summary>The embedding snapshot files of a checkpoint folder, in shard order (any count restores onto any count).</summary>
    public static string[] SnapshotFiles(string dir) =>
        Directory.GetFiles(dir, "embeddings-*.snap").OrderBy(f => f, StringComparer.Ordinal).ToArray();

    public static TrainedModel Load(string dir, int? psShards = null)
    {
        var manifest = CheckpointStore.Open(dir);
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "model.json")))
            ?? throw new InvalidDataException($"{dir}/model.json is empty");
        var schema = FeatureSchemaJson.Parse(root["schema"]!, Path.Combine(dir, "model.json"));
        var model = root["model"].Deserialize<ModelSettings>(Json)!;
        var embeddings = root["embeddings"].Deserialize<EmbeddingSettings>(Json)!;
        var dense = root["dense_optimizer"].Deserialize<AdamSettings>(Json)!;
        var (state, buffers) = ReadDense(Path.Combine(dir, "dense.bin"));
        var snapshots = SnapshotFiles(dir);
        var shards = psShards ?? snapshots.Length;
        var tables = ShardedEmbeddings.Restore(snapshots, shards, embeddings);
        return new TrainedModel(dir, manifest, schema, model, embeddings, dense, state, buffers, tables);
    }

    public static (DenseState State, float[] Buffers) ReadDense(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path));
        if (r.ReadUInt32() != DenseMagic) throw new InvalidDataException($"{path} is not a DinCluster dense-weights file");
        var version = r.ReadInt32();
        if (version != DenseVersion) throw new InvalidDataException($"{path} has format version {version}, this build reads {DenseVersion}");
        var step = r.ReadInt64();
        var values = ReadFloats(r);
        var m = ReadFloats(r);
        var v = ReadFloats(r);
        var buffers = ReadFloats(r);
        return (new DenseState(step, values, m, v), buffers);
    }

    private static void WriteFloats(BinaryWriter w, float[] values)
    {
        w.Write(values.Length);
        w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static float[] ReadFloats(BinaryReader r)
    {
        var n = r.ReadInt32();
        var values = new float[n];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
        if (r.Read(bytes) != bytes.Length) throw new EndOfStreamException("dense-weights file is truncated");
        return values;
    }
}

/// <summary>A checkpoint loaded back: settings, dense state and the embedding tables.</summary>
public sealed record TrainedModel(
    string Directory, CheckpointManifest Manifest, FeatureSchema Schema, ModelSettings Model,
    EmbeddingSettings Embeddings, AdamSettings DenseOptimizer, DenseState Dense, float[] Buffers, ShardedEmbeddings Tables)
{
    public DinNetwork CreateNetwork()
    {
        var network = new DinNetwork(Schema, Model);
        network.SetDense(Dense.Values);
        network.SetBuffers(Buffers);
        return network;
    }
}
