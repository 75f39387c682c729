using static TorchSharp.torch;

namespace DinCluster.Model.Training;

/// <summary>
/// libtorch's intra-op thread count is one per process: in a simulated cluster all workers
/// share it, so size it to cores / concurrent workers, once, at start-up.
/// </summary>
public static class TorchThreads
{
    private static readonly Lock Gate = new();

    /// <summary>Sets the intra-op thread count (no-op when it already is <paramref name="threads"/>).</summary>
    public static void Configure(int threads)
    {
        if (threads <= 0) throw new ArgumentOutOfRangeException(nameof(threads), threads, "torch threads is set to a value <= 0, must be >= 1");
        lock (Gate)
        {
            if (get_num_threads() != threads) set_num_threads(threads);
        }
    }

    public static int Current => get_num_threads();
}
