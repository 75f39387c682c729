using System.Collections.Concurrent;
using DinCluster.Cluster.Checkpoints;
using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using DinCluster.Model.Networks;

namespace DinCluster.Cluster.Serving;

/// <summary>
/// Scores batches with a model loaded once: the embedding weights in one read-only
/// <see cref="ServingTables"/>, and <c>scorers</c> copies of the dense network (a DinNetwork is
/// not thread-safe), so that many requests are scored at once. Inference mode: no gradients,
/// Dice normalises with the stored running statistics, every call in its own dispose scope
/// (inside <see cref="DinNetwork.Predict"/>).
/// </summary>
public sealed class ModelScorer : IDisposable
{
    private readonly List<DinNetwork> _networks = [];
    private readonly ConcurrentBag<DinNetwork> _idle = [];
    private readonly SemaphoreSlim _slots;

    public FeatureSchema Schema { get; }
    public ModelSettings Settings { get; }
    public ServingTables Tables { get; }

    /// <summary>What was loaded (a checkpoint folder, or "fresh" for an initialised model).</summary>
    public string Source { get; }

    public int Scorers { get; }

    public ModelScorer(ModelSettings settings, float[] dense, float[] buffers, ServingTables tables, int scorers, string source)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scorers);
        Schema = tables.Schema;
        Settings = settings;
        Tables = tables;
        Source = source;
        Scorers = scorers;
        for (var i = 0; i < scorers; i++)
        {
            var network = new DinNetwork(Schema, settings);
            network.SetDense(dense);
            network.SetBuffers(buffers);
            _networks.Add(network);
            _idle.Add(network);
        }
        _slots = new SemaphoreSlim(scorers, scorers);
    }

    /// <summary>A checkpoint's model (its tables are copied into read-only serving tables).</summary>
    public static ModelScorer FromCheckpoint(TrainedModel model, int scorers, UnseenIds unseen) =>
        new(model.Model, model.Dense.Values, model.Buffers,
            ServingTables.From(model.Tables, model.Schema, model.Embeddings, unseen), scorers, model.Directory);

    /// <summary>Click probabilities of every sample of <paramref name="batch"/>, in order.</summary>
    public ScoredBatch Score(Batch batch)
    {
        _slots.Wait();
        return ScoreInSlot(batch);
    }

    /// <summary>As <see cref="Score"/>, waiting for a free scorer without blocking a thread.</summary>
    public async Task<ScoredBatch> ScoreAsync(Batch batch, CancellationToken ct = default)
    {
        await _slots.WaitAsync(ct);
        return ScoreInSlot(batch);
    }

    /// <summary>The embedding rows of a batch's unique ids, schema.Tables order; counts unseen ids.</summary>
    public float[][] Rows(BatchIndex index, out long unseen)
    {
        unseen = 0;
        var rows = new float[Schema.Tables.Count][];
        for (var t = 0; t < rows.Length; t++)
        {
            rows[t] = new float[index.UniqueIds[t].Length * Schema.Tables[t].Dim];
            unseen += Tables.Pull(t, index.UniqueIds[t], rows[t]);
        }
        return rows;
    }

    private ScoredBatch ScoreInSlot(Batch batch)
    {
        DinNetwork? network = null;
        try
        {
            if (!_idle.TryTake(out network)) throw new InvalidOperationException("a scorer slot was free but no network was idle");
            var index = BatchIndex.Build(batch, Schema);
            var rows = Rows(index, out var unseen);
            return new ScoredBatch(network.Predict(batch, index, rows), unseen);
        }
        finally
        {
            if (network is not null) _idle.Add(network);
            _slots.Release();
        }
    }

    public void Dispose()
    {
        foreach (var n in _networks) n.Dispose();
        _slots.Dispose();
    }
}

/// <summary>Probabilities in sample order, and how many unique ids of the batch no table row held.</summary>
public sealed record ScoredBatch(float[] Probabilities, long UnseenIds);
