using System.Numerics;
using System.Runtime.ExceptionServices;
using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using DinCluster.Model.Networks;

namespace DinCluster.Model.Training;

/// <summary>
/// Data parallelism inside one process: K copies of the network ("lanes") with the same dense
/// weights, each computing a contiguous slice of every batch on its own thread, their gradients
/// added with the slices' weights. Lane 0 runs on the caller's thread, lanes 1..K-1 on threads of
/// their own.
/// <code>
///   batch [0 .. B)  ->  lane 0: [0, B/K)   lane 1: [B/K, 2B/K) ...      (the first B mod K slices get one more)
///   loss            =   sum_k n_k/B * loss_k
///   dense gradient  =   sum_k n_k/B * dense_k       (equal to the whole batch's: the loss is a mean)
///   row gradients   =   sum_k n_k/B * rows_k        (every lane holds all of the batch's unique rows)
///   Dice statistics =   sum_k n_k/B * running_k     (copied back to every lane after the step)
/// </code>
/// Why: on a few cores one libtorch thread per slice trains more samples/s than several threads
/// on one batch (a parallel region's threads wait at every op for the slowest; independent slices
/// do not wait for each other). The math is that of the whole batch except Dice, which normalises
/// with the statistics of its slice (B/K samples), as each worker's batch does in bsp. With K = 1
/// this is exactly <see cref="DinNetwork"/>. Not thread-safe: one caller at a time.
/// </summary>
public sealed class NetworkLanes : IBatchScorer, IDisposable
{
    private readonly DinNetwork[] _networks;
    private readonly LaneThread[] _threads;
    private readonly int _torchThreads;

    public FeatureSchema Schema { get; }
    public ModelSettings Settings { get; }
    public int Count => _networks.Length;

    /// <summary>Lane 0's network: the one to export, checkpoint and describe.</summary>
    public DinNetwork First => _networks[0];

    /// <param name="lanes">K, at least 1.</param>
    /// <param name="torchThreads">libtorch intra-op threads of each lane (process-wide in libtorch; set here).</param>
    public NetworkLanes(FeatureSchema schema, ModelSettings settings, int lanes, int torchThreads)
    {
        if (lanes < 1) throw new ArgumentOutOfRangeException(nameof(lanes), lanes, "lanes is set to a value < 1, must be >= 1");
        Schema = schema;
        Settings = settings;
        _torchThreads = torchThreads;
        TorchThreads.Configure(torchThreads);
        // Same settings and seed: every lane starts from the same weights.
        _networks = Enumerable.Range(0, lanes).Select(_ => new DinNetwork(schema, settings)).ToArray();
        _threads = Enumerable.Range(1, lanes - 1).Select(k => new LaneThread(k, torchThreads)).ToArray();
    }

    /// <summary>Forward and backward of one batch, split across the lanes; see the class summary.</summary>
    public TrainStepResult TrainStep(Batch batch, BatchIndex index, float[][] rows)
    {
        var slices = Slices(batch.Count);
        if (slices.Length == 1) return Here().TrainStep(batch, index, rows);
        var results = Run(slices, batch, index, (network, b, i) => network.TrainStep(b, i, rows));

        var weights = slices.Select(s => (float)((double)s.Count / batch.Count)).ToArray();
        var dense = results[0].DenseGradient;
        Blend(dense, weights, results.Select(r => r.DenseGradient).ToArray());
        var rowGradients = results[0].RowGradients;
        for (var t = 0; t < rowGradients.Length; t++)
            Blend(rowGradients[t], weights, results.Select(r => r.RowGradients[t]).ToArray());
        if (_networks[0].BufferLayout.Total > 0) MergeBuffers(weights);
        return new TrainStepResult(
            (float)Mean(results.Select(r => (double)r.Loss), slices, batch.Count),
            results.SelectMany(r => r.Predictions).ToArray(),
            dense,
            rowGradients);
    }

    /// <summary>Loss and predictions without gradients (exact for any K: inference uses no batch statistics).</summary>
    public Evaluation Evaluate(Batch batch, BatchIndex index, float[][] rows)
    {
        var slices = Slices(batch.Count);
        if (slices.Length == 1) return Here().Evaluate(batch, index, rows);
        var results = Run(slices, batch, index, (network, b, i) => network.Evaluate(b, i, rows));
        return new Evaluation(
            (float)Mean(results.Select(r => (double)r.Loss), slices, batch.Count),
            results.SelectMany(r => r.Predictions).ToArray());
    }

    public float[] Predict(Batch batch, BatchIndex index, float[][] rows) => Evaluate(batch, index, rows).Predictions;

    public float[] GetDense() => _networks[0].GetDense();

    public void SetDense(float[] values)
    {
        foreach (var network in _networks) network.SetDense(values);
    }

    public float[] GetBuffers() => _networks[0].GetBuffers();

    public void SetBuffers(float[] values)
    {
        foreach (var network in _networks) network.SetBuffers(values);
    }

    public void Dispose()
    {
        foreach (var thread in _threads) thread.Dispose();
        foreach (var network in _networks) network.Dispose();
    }

    /// <summary>The caller's lane: libtorch's thread count is set per thread, so set it on this one too.</summary>
    private DinNetwork Here()
    {
        TorchThreads.Configure(_torchThreads);
        return _networks[0];
    }

    private (int Start, int Count)[] Slices(int count)
    {
        var k = Math.Max(1, Math.Min(_networks.Length, count));
        var slices = new (int, int)[k];
        for (int i = 0, start = 0; i < k; i++)
        {
            var n = count / k + (i < count % k ? 1 : 0);
            slices[i] = (start, n);
            start += n;
        }
        return slices;
    }

    private T[] Run<T>((int Start, int Count)[] slices, Batch batch, BatchIndex index, Func<DinNetwork, Batch, BatchIndex, T> work)
    {
        var results = new T[slices.Length];
        void Lane(int k)
        {
            var (start, count) = slices[k];
            results[k] = work(_networks[k], batch.Slice(start, count, batch.BatchId), index.Slice(batch, start, count));
        }
        for (var k = 1; k < slices.Length; k++)
        {
            var lane = k;
            _threads[k - 1].Start(() => Lane(lane));
        }
        Exception? first = null;
        try
        {
            Here();
            Lane(0);
        }
        catch (Exception e)
        {
            first = e;
        }
        // Every started lane is waited for, even when lane 0 failed: none may still run on the next call.
        for (var k = 1; k < slices.Length; k++)
        {
            try
            {
                _threads[k - 1].Wait();
            }
            catch (Exception e)
            {
                first ??= e;
            }
        }
        if (first is not null) ExceptionDispatchInfo.Throw(first);
        return results;
    }

    private void MergeBuffers(float[] weights)
    {
        var buffers = _networks.Take(weights.Length).Select(n => n.GetBuffers()).ToArray();
        Blend(buffers[0], weights, buffers);
        SetBuffers(buffers[0]);
    }

    private static double Mean(IEnumerable<double> values, (int Start, int Count)[] slices, int total) =>
        values.Zip(slices, (v, s) => v * s.Count).Sum() / total;

    /// <summary>into = sum_k weights[k] * parts[k]; parts[0] may be <paramref name="into"/> itself.</summary>
    internal static void Blend(float[] into, float[] weights, float[][] parts)
    {
        var n = into.Length;
        foreach (var p in parts)
            if (p.Length != n) throw new ArgumentException($"lane arrays of {p.Length} and {n} floats", nameof(parts));
        var width = Vector<float>.Count;
        var i = 0;
        for (; i <= n - width; i += width)
        {
            var sum = new Vector<float>(parts[0], i) * weights[0];
            for (var k = 1; k < parts.Length; k++) sum += new Vector<float>(parts[k], i) * weights[k];
            sum.CopyTo(into, i);
        }
        for (; i < n; i++)
        {
            var sum = parts[0][i] * weights[0];
            for (var k = 1; k < parts.Length; k++) sum += parts[k][i] * weights[k];
            into[i] = sum;
        }
    }

    /// <summary>A lane's own thread: runs one piece of work at a time, handed over by <see cref="Start"/>.</summary>
    private sealed class LaneThread : IDisposable
    {
        private readonly SemaphoreSlim _go = new(0);
        private readonly SemaphoreSlim _done = new(0);
        private readonly Thread _thread;
        private Action? _work;
        private Exception? _error;
        private volatile bool _stopping;

        public LaneThread(int lane, int torchThreads)
        {
            _thread = new Thread(() => Loop(torchThreads)) { IsBackground = true, Name = $"dincluster.lane{lane}" };
            _thread.Start();
        }

        public void Start(Action work)
        {
            _work = work;
            _go.Release();
        }

        public void Wait()
        {
            _done.Wait();
            if (_error is { } e)
            {
                _error = null;
                ExceptionDispatchInfo.Throw(e);
            }
        }

        private void Loop(int torchThreads)
        {
            TorchThreads.Configure(torchThreads);
            while (true)
            {
                _go.Wait();
                if (_stopping) return;
                try
                {
                    _work!();
                }
                catch (Exception e)
                {
                    _error = e;
                }
                _work = null;
                _done.Release();
            }
        }

        public void Dispose()
        {
            _stopping = true;
            _go.Release();
            _thread.Join();
            _go.Dispose();
            _done.Dispose();
        }
    }
}
