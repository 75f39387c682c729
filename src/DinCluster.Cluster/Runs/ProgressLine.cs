using System.Diagnostics;

namespace DinCluster.Cluster.Runs;

/// <summary>
/// A one-line progress display for long work: redrawn in place on a terminal, printed as a
/// plain line at most every few seconds when output goes to a file or a pipe.
/// </summary>
public sealed class ProgressLine(TextWriter output, string label, long total)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
    private TimeSpan? _lastDraw;

    public void Report(long done, string detail = "")
    {
        var now = _clock.Elapsed;
        var interval = _interactive ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromSeconds(5);
        if (_lastDraw is { } last && done < total && now - last < interval) return;
        _lastDraw = now;
        var fraction = total > 0 ? Math.Min(1.0, (double)done / total) : 0;
        var width = 24;
        var filled = (int)(fraction * width);
        var bar = new string('#', filled) + new string('.', width - filled);
        var rate = now.TotalSeconds > 0 ? done / now.TotalSeconds : 0;
        var eta = rate > 0 && total > done ? TimeSpan.FromSeconds((total - done) / rate) : TimeSpan.Zero;
        var line = $"{label} [{bar}] {fraction,4:P0} {done:N0}/{total:N0} {rate:N0}/s eta {eta:mm\\:ss} {detail}";
        if (_interactive) output.Write("\r" + line.PadRight(Math.Min(Console.BufferWidth > 0 ? Console.BufferWidth - 1 : 120, 160)));
        else output.WriteLine(line);
    }

    public void Done(string detail = "")
    {
        _lastDraw = null;
        Report(total, detail);
        if (_interactive) output.WriteLine();
    }
}
