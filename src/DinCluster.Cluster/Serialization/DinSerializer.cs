using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using DinCluster.Cluster.Protocol;

namespace DinCluster.Cluster.Serialization;

/// <summary>
/// Binary serializer of every <see cref="IDinMessage"/>. Manifests are short and FROZEN: a
/// manifest names a wire layout, so never change or reuse one; add a new one instead. A
/// manifest not in the table is rejected; no type name is ever read from the wire.
/// Arrays go as raw little-endian bytes (checked at start-up: <see cref="BitConverter.IsLittleEndian"/>).
/// </summary>
public sealed class DinSerializer : SerializerWithStringManifest
{
    /// <summary>Serializer id 0-40 are Akka's own.</summary>
    public const int Id = 4711;

    private readonly Dictionary<Type, (string Manifest, Action<BinaryWriter, object> Write)> _writers = [];
    private readonly Dictionary<string, Func<BinaryReader, object>> _readers = new(StringComparer.Ordinal);

    public DinSerializer(ExtendedActorSystem system) : base(system)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("DinSerializer writes arrays as little-endian bytes");

        // ParameterServerProtocol
        Add<AssignPsShard>("APS", (w, m) => { w.Write(m.ShardIndex); w.Write(m.ShardCount); w.Options(m.Options); },
            r => new(r.ReadInt32(), r.ReadInt32(), r.Options()));
        // Retired layouts (before rollback generations): "PSR", "PG", "GA", "ST", "RT", "RS", "RDS", "PDV", "DGV";
        // (before the dense actor moved to PS shard 0): "PSRG", "RTG".
        Add<PsShardReady>("PSRD", (w, m) => { w.Write(m.ShardIndex); w.Write(m.Generation); WriteOptionalRef(w, m.Dense); },
            r => new(r.ReadInt32(), r.ReadInt64(), ReadOptionalRef(r)));
        Add<PullRows>("PR", (w, m) => { w.Write(m.RequestId); w.Str(m.Table); w.Longs(m.Ids); },
            r => new(r.ReadInt64(), r.Str(), r.Longs()));
        Add<RowsPulled>("RP", (w, m) => { w.Write(m.RequestId); w.Write(m.Offset); w.Write(m.Total); w.Rows(m.Rows); },
            r => new(r.ReadInt64(), r.ReadInt32(), r.ReadInt32(), r.Rows()));
        Add<PushGradients>("PGG", (w, m) =>
        {
            w.Write(m.BatchId); w.Write(m.Step); w.Write(m.WorkerIndex); w.Write(m.Samples);
            w.Write(m.Part); w.Write(m.Parts); w.Array(m.Gradients, Wire.Rows); w.Array(m.Counts, Wire.Ints); w.Write(m.Generation);
        }, r => new(r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.Array(Wire.Rows), r.Array(Wire.Ints), r.ReadInt64()));
        Add<GradientsApplied>("GAG", (w, m) => { w.Write(m.BatchId); w.Write(m.ShardIndex); w.Write((int)m.Outcome); w.Write(m.Generation); },
            r => new(r.ReadInt64(), r.ReadInt32(), r.Enum<PushOutcome>(), r.ReadInt64()));
        Add<WriteSnapshot>("WS", (w, m) => { w.Write(m.Step); w.Str(m.Path); }, r => new(r.ReadInt64(), r.Str()));
        Add<SnapshotWritten>("SW", (w, m) => { w.Write(m.ShardIndex); w.Write(m.Step); w.Str(m.Path); w.Str(m.Error); },
            r => new(r.ReadInt32(), r.ReadInt64(), r.Str(), r.Str()));
        Add<GetShardStats>("GSS", (_, _) => { }, _ => GetShardStats.Instance);
        Add<ShardStats>("SS", (w, m) =>
        {
            w.Write(m.ShardIndex); w.Write(m.Rows); w.Write(m.PullRequests); w.Write(m.RowsPulled);
            w.Write(m.PushesApplied); w.Write(m.DuplicatesIgnored); w.Write(m.NaNRejected);
        }, r => new(r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64()));

        // DenseParameterProtocol
        Add<InitDenseWeights>("IDW", (w, m) => w.Floats(m.Weights), r => new(r.Floats()));
        Add<GetDenseState>("GDS", (w, m) => w.Write(m.Step), r => new(r.ReadInt64()));
        Add<DenseStateSnapshot>("DSS", (w, m) => { w.Write(m.Step); w.Write(m.AdamStep); w.Floats(m.Values); w.Floats(m.M); w.Floats(m.V); },
            r => new(r.ReadInt64(), r.ReadInt64(), r.Floats(), r.Floats(), r.Floats()));
        Add<GetDenseWeights>("GDW", (w, m) => w.Write(m.RequestId), r => new(r.ReadInt64()));
        Add<DenseWeights>("DW", (w, m) => { w.Write(m.RequestId); w.Write(m.Version); w.Floats(m.Weights); },
            r => new(r.ReadInt64(), r.ReadInt64(), r.Floats()));
        // Retired layouts: "PDG", "DGA" (before the weights rode on the reply), "PDR", "DGW" (before worker replicas), "PDV", "DGV".
        Add<PushDenseGradients>("PDVG", (w, m) =>
        {
            w.Write(m.BatchId); w.Write(m.Step); w.Write(m.WorkerIndex); w.Write(m.Samples); w.Floats(m.Gradient); w.Write(m.ReturnWeights); w.Write(m.ReplicaVersion);
            w.Write(m.Generation);
        }, r => new(r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32(), r.Floats(), r.ReadBoolean(), r.ReadInt64(), r.ReadInt64()));
        Add<DenseGradientsApplied>("DGVG", (w, m) =>
        {
            w.Write(m.BatchId); w.Write(m.Version); w.Write((int)m.Outcome); w.Floats(m.Weights); w.Write(m.ReplicaInSync); w.Write(m.Checksum);
            w.Write(m.Generation);
        }, r => new(r.ReadInt64(), r.ReadInt64(), r.Enum<PushOutcome>(), r.Floats(), r.ReadBoolean(), r.ReadUInt64(), r.ReadInt64()));

        // DataShardProtocol
        Add<AssignRowGroups>("ARG", (w, m) => { w.Write(m.ShardIndex); w.Array(m.RowGroups, Wire.RowGroup); w.Options(m.Options); },
            r => new(r.ReadInt32(), r.Array(Wire.RowGroup), r.Options()));
        Add<RowGroupsAssigned>("RGA", (w, m) => { w.Write(m.ShardIndex); w.Write(m.Batches); w.Write(m.Samples); },
            r => new(r.ReadInt32(), r.ReadInt64(), r.ReadInt64()));
        Add<StartEpoch>("SE", (w, m) => w.Write(m.Epoch), r => new(r.ReadInt32()));
        Add<EpochStarted>("ES", (w, m) =>
        {
            w.Write(m.ShardIndex); w.Write(m.Epoch); w.Write(m.Batches); w.Write(m.Samples); w.Write(m.BatchesRolledBack); w.Write(m.SamplesRolledBack);
        }, r => new(r.ReadInt32(), r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64()));
        Add<EpochCompleted>("EC", (w, m) =>
        {
            w.Write(m.ShardIndex); w.Write(m.Epoch); w.Write(m.SamplesConsumed); w.Write(m.SamplesSkipped); w.Write(m.SamplesReplayed); w.Write(m.Exact);
        }, r => new(r.ReadInt32(), r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadBoolean()));
        Add<BadInputCounted>("BIC", (w, m) =>
        {
            w.Write(m.ShardIndex); w.Write(m.Epoch); w.Longs(m.Rows); w.Longs(m.RowGroups); w.Longs(m.Files); w.Write(m.TruncatedHistories);
        }, r => new(r.ReadInt32(), r.ReadInt32(), r.Longs(), r.Longs(), r.Longs(), r.ReadInt64()));
        Add<RequestBatches>("RB", (w, m) => { w.Write(m.WorkerIndex); w.Write(m.Count); }, r => new(r.ReadInt32(), r.ReadInt32()));
        Add<BatchIssued>("BI", (w, m) => { w.Write(m.ShardIndex); w.Write(m.Epoch); w.Batch(m.Batch); },
            r => new(r.ReadInt32(), r.ReadInt32(), r.Batch()));
        Add<NoBatchesLeft>("NBL", (w, m) => { w.Write(m.ShardIndex); w.Write(m.Epoch); }, r => new(r.ReadInt32(), r.ReadInt32()));
        Add<DataShardFailed>("DSF", (w, m) => { w.Write(m.ShardIndex); w.Str(m.Error); }, r => new(r.ReadInt32(), r.Str()));
        Add<BatchAcked>("BA", (w, m) => { w.Write(m.BatchId); w.Write(m.WorkerIndex); }, r => new(r.ReadInt64(), r.ReadInt32()));

        // WorkerProtocol
        Add<StartTraining>("STG", (w, m) =>
        {
            w.Write(m.WorkerIndex); w.Write(m.Workers); w.Array(m.PsShards, WriteRef); WriteRef(w, m.Dense);
            w.Array(m.DataShards, WriteRef); w.Options(m.Options); w.Write(m.Generation);
        }, r => new(r.ReadInt32(), r.ReadInt32(), r.Array(ReadRef), ReadRef(r), r.Array(ReadRef), r.Options(), r.ReadInt64()));
        Add<WorkerReady>("WR", (w, m) => w.Write(m.WorkerIndex), r => new(r.ReadInt32()));
        Add<BeginStep>("BS", (w, m) => w.Write(m.Step), r => new(r.ReadInt64()));
        Add<ClockAdvanced>("CA", (w, m) => w.Write(m.MinClock), r => new(r.ReadInt64()));
        Add<EvaluateRowGroup>("ERG", (w, m) => { w.Write(m.Epoch); w.Write(m.TaskId); w.RowGroup(m.RowGroup); },
            r => new(r.ReadInt32(), r.ReadInt32(), r.RowGroup()));
        Add<PredictionsScored>("PSC", (w, m) =>
        {
            w.Write(m.Epoch); w.Write(m.TaskId); w.Longs(m.Users); w.Floats(m.Scores); w.Floats(m.Labels);
        }, r => new(r.ReadInt32(), r.ReadInt32(), r.Longs(), r.Floats(), r.Floats()));
        Add<EvaluationTaskDone>("ETD", (w, m) => { w.Write(m.Epoch); w.Write(m.TaskId); w.Write(m.Samples); },
            r => new(r.ReadInt32(), r.ReadInt32(), r.ReadInt64()));
        Add<StopTraining>("STP", (_, _) => { }, _ => StopTraining.Instance);
        Add<GetBuffers>("GB", (w, m) => w.Write(m.Epoch), r => new(r.ReadInt32()));
        Add<WorkerBuffers>("WB", (w, m) => { w.Write(m.WorkerIndex); w.Write(m.Epoch); w.Floats(m.Buffers); },
            r => new(r.ReadInt32(), r.ReadInt32(), r.Floats()));
        Add<SetBuffers>("SB", (w, m) => { w.Write(m.Epoch); w.Floats(m.Buffers); }, r => new(r.ReadInt32(), r.Floats()));
        Add<PauseTraining>("PT", (w, m) => w.Write(m.Step), r => new(r.ReadInt64()));
        Add<TrainingPaused>("TP", (w, m) => { w.Write(m.WorkerIndex); w.Write(m.Step); }, r => new(r.ReadInt32(), r.ReadInt64()));
        Add<ContinueTraining>("CT", (w, m) => w.Write(m.Step), r => new(r.ReadInt64()));
        // Retired layout (before a lost data shard could be replaced): "RTD".
        Add<ResetTraining>("RTDS", (w, m) => { w.Write(m.Epoch); w.Array(m.PsShards, WriteRef); WriteOptionalRef(w, m.Dense); w.Write(m.Generation); w.Array(m.DataShards, WriteRef); },
            r => new(r.ReadInt32(), r.Array(ReadRef), ReadOptionalRef(r), r.ReadInt64(), r.Array(ReadRef)));
        Add<WorkerReset>("WRS", (w, m) => w.Write(m.WorkerIndex), r => new(r.ReadInt32()));
        Add<RestoreSnapshot>("RSG", (w, m) => { w.Write(m.Step); w.Array(m.Paths, Wire.Str); w.Write(m.Generation); },
            r => new(r.ReadInt64(), r.Array(Wire.Str), r.ReadInt64()));
        Add<SnapshotRestored>("SR", (w, m) => { w.Write(m.ShardIndex); w.Write(m.Step); w.Write(m.Rows); w.Str(m.Error); },
            r => new(r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.Str()));
        Add<RestoreDenseState>("RDSG", (w, m) =>
        {
            w.Write(m.Step); w.Write(m.AdamStep); w.Floats(m.Values); w.Floats(m.M); w.Floats(m.V); w.Write(m.Generation);
        }, r => new(r.ReadInt64(), r.ReadInt64(), r.Floats(), r.Floats(), r.Floats(), r.ReadInt64()));
        Add<DenseStateRestored>("DSR", (w, m) => w.Write(m.Step), r => new(r.ReadInt64()));
        Add<RestoreEpoch>("RE", (w, m) => { w.Write(m.Epoch); w.Longs(m.ConsumedBatchIds); w.Write(m.ClearCredit); },
            r => new(r.ReadInt32(), r.Longs(), r.ReadBoolean()));

        // CoordinatorProtocol
        Add<JoinTraining>("JT", (w, m) => w.Write((int)m.Role), r => new(r.Enum<NodeRole>()));
        // Retired layout: "SC" (before DenseReplica).
        Add<StepCompleted>("SCR", (w, m) =>
        {
            w.Write(m.WorkerIndex); w.Write(m.Clock); w.Write(m.BatchId); w.Write(m.Samples); w.Write(m.Loss); w.Write(m.DenseReplica);
        }, r => new(r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadDouble(), r.ReadBoolean()));
        Add<StepSkipped>("SK", (w, m) => { w.Write(m.WorkerIndex); w.Write(m.Step); }, r => new(r.ReadInt32(), r.ReadInt64()));
        Add<WorkerWaiting>("WW", (w, m) => { w.Write(m.WorkerIndex); w.Write(m.Clock); }, r => new(r.ReadInt32(), r.ReadInt64()));

        // StatusProtocol
        Add<GetClusterStatus>("GCS", (_, _) => { }, _ => GetClusterStatus.Instance);
        Add<ClusterStatus>("CS", (w, m) =>
        {
            w.Str(m.Node); w.Str(m.Leader);
            w.Array(m.Members, (w, v) => { w.Str(v.Address); w.Str(v.Roles); w.Str(v.Status); w.Write(v.Reachable); });
        }, r => new(r.Str(), r.Str(), r.Array(r => new MemberView(r.Str(), r.Str(), r.Str(), r.ReadBoolean()))));
        Add<GetJobProgress>("GJP", (_, _) => { }, _ => GetJobProgress.Instance);
        Add<JobProgress>("JP", (w, m) =>
        {
            w.Str(m.State); w.Write(m.Epoch); w.Write(m.Epochs); w.Write(m.Steps); w.Write(m.Samples); w.Write(m.EpochSamples);
            w.Write(m.EpochSamplesExpected); w.Write(m.LastLoss); w.Write(m.LastTestAuc); w.Write(m.Workers); w.Write(m.Seconds);
        }, r => new(r.Str(), r.ReadInt32(), r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64(),
            r.ReadDouble(), r.ReadDouble(), r.ReadInt32(), r.ReadDouble()));

        // SyncProtocol
        Add<ApplyStep>("AST", (w, m) => { w.Write(m.Step); w.Ints(m.Workers); w.Ints(m.Samples); }, r => new(r.ReadInt64(), r.Ints(), r.Ints()));
        Add<StepApplied>("SA", (w, m) => { w.Write(m.Step); w.Write(m.ShardIndex); }, r => new(r.ReadInt64(), r.ReadInt32()));
    }

    public override int Identifier => Id;

    /// <summary>Every manifest this serializer reads; tests check each message type has one.</summary>
    public IReadOnlyCollection<string> Manifests => _readers.Keys;

    public override string Manifest(object o) =>
        _writers.TryGetValue(o.GetType(), out var e)
            ? e.Manifest
            : throw new ArgumentException($"{o.GetType().FullName} has no DinSerializer manifest; add one", nameof(o));

    public override byte[] ToBinary(object obj)
    {
        if (!_writers.TryGetValue(obj.GetType(), out var e))
            throw new ArgumentException($"{obj.GetType().FullName} has no DinSerializer manifest; add one", nameof(obj));
        // One growing buffer per thread: a 1 MB message is written once, not re-copied at every doubling.
        var stream = _buffer ??= new MemoryStream();
        stream.SetLength(0);
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) e.Write(w, obj);
        var bytes = stream.ToArray();
        // A rare huge message (a checkpoint snapshot) is not kept alive by the thread.
        if (stream.Capacity > MaxKeptBuffer) _buffer = null;
        return bytes;
    }

    private const int MaxKeptBuffer = 16 << 20;
    [ThreadStatic] private static MemoryStream? _buffer;

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!_readers.TryGetValue(manifest, out var read))
            throw new SerializationException($"DinSerializer: unknown manifest '{manifest}' ({bytes.Length} bytes); sender runs a different protocol version?");
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes, writable: false));
            var message = read(r);
            if (r.BaseStream.Position != bytes.Length)
                throw new InvalidDataException($"{bytes.Length - r.BaseStream.Position} bytes left over");
            return message;
        }
        catch (Exception ex) when (ex is EndOfStreamException or InvalidDataException or InvalidCastException)
        {
            throw new SerializationException($"DinSerializer: malformed '{manifest}' payload of {bytes.Length} bytes: {ex.Message}", ex);
        }
    }

    private void Add<T>(string manifest, Action<BinaryWriter, T> write, Func<BinaryReader, T> read) where T : IDinMessage
    {
        _writers.Add(typeof(T), (manifest, (w, o) => write(w, (T)o)));
        _readers.Add(manifest, r => read(r));
    }

    private void WriteRef(BinaryWriter w, IActorRef actor) => w.Str(Akka.Serialization.Serialization.SerializedActorPath(actor));

    private IActorRef ReadRef(BinaryReader r) => system.Provider.ResolveActorRef(r.Str());

    /// <summary>A ref that may be Nobody (a flag, then the path).</summary>
    private void WriteOptionalRef(BinaryWriter w, IActorRef actor)
    {
        w.Write(!actor.IsNobody());
        if (!actor.IsNobody()) WriteRef(w, actor);
    }

    private IActorRef ReadOptionalRef(BinaryReader r) => r.ReadBoolean() ? ReadRef(r) : ActorRefs.Nobody;
}
