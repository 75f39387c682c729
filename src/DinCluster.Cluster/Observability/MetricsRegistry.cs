using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace DinCluster.Cluster.Observability;

/// <summary>
/// The process's metrics in Prometheus text format (exposition format 0.0.4), written by our own
/// small writer: counters, gauges and fixed-bucket histograms, each series named by its labels.
/// Instruments are lock-free (Interlocked) so actors update them from their own threads and a
/// scrape reads them from the HTTP thread. Before rendering, every registered collector runs
/// (gauges read at scrape time, such as cluster membership).
/// <code>
///   family (name, help, type) --label text--> series (Counter | Gauge | Histogram)
/// </code>
/// </summary>
public sealed class MetricsRegistry
{
    /// <summary>The registry <see cref="MetricsServer"/> serves by default: every node of this process.</summary>
    public static MetricsRegistry Process { get; } = new();

    private readonly ConcurrentDictionary<string, Family> _families = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<object, Action> _collectors = new();

    public Counter Counter(string name, string help, params (string Name, string Value)[] labels) =>
        (Counter)Series(name, help, "counter", labels, () => new Counter());

    public Gauge Gauge(string name, string help, params (string Name, string Value)[] labels) =>
        (Gauge)Series(name, help, "gauge", labels, () => new Gauge());

    public Histogram Histogram(string name, string help, double[] buckets, params (string Name, string Value)[] labels) =>
        (Histogram)Series(name, help, "histogram", labels, () => new Histogram(buckets));

    /// <summary>Runs <paramref name="collect"/> before every render (until <see cref="RemoveCollector"/>).</summary>
    public void AddCollector(object owner, Action collect) => _collectors[owner] = collect;

    public void RemoveCollector(object owner) => _collectors.TryRemove(owner, out _);

    /// <summary>Drops every series whose labels include <paramref name="label"/> = <paramref name="value"/> (a node that stopped).</summary>
    public void RemoveSeries(string label, string value)
    {
        var needle = $"{label}=\"{Escape(value)}\"";
        foreach (var family in _families.Values)
            foreach (var key in family.Series.Keys.Where(k => k.Contains(needle, StringComparison.Ordinal)).ToList())
                family.Series.TryRemove(key, out _);
    }

    /// <summary>Every family with at least one series, sorted by name, in Prometheus text format.</summary>
    public string Render()
    {
        foreach (var collect in _collectors.Values) collect();
        var text = new StringBuilder();
        foreach (var family in _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            var series = family.Series.OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
            if (series.Count == 0) continue;
            text.Append("# HELP ").Append(family.Name).Append(' ').Append(family.Help).Append('\n');
            text.Append("# TYPE ").Append(family.Name).Append(' ').Append(family.Type).Append('\n');
            foreach (var (labels, instrument) in series) instrument.Write(text, family.Name, labels);
        }
        return text.ToString();
    }

    private object Series(string name, string help, string type, (string Name, string Value)[] labels, Func<object> create)
    {
        var family = _families.GetOrAdd(name, n => new Family(n, help, type));
        if (family.Type != type) throw new ArgumentException($"metric {name} is a {family.Type}, not a {type}", nameof(type));
        return family.Series.GetOrAdd(LabelText(labels), _ => (IInstrument)create());
    }

    /// <summary>"a=\"x\",b=\"y\"" in the given order; values escaped as the format requires.</summary>
    internal static string LabelText((string Name, string Value)[] labels) =>
        string.Join(',', labels.Select(l => $"{l.Name}=\"{Escape(l.Value)}\""));

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    internal static string Number(double v) =>
        double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : double.IsNaN(v) ? "NaN" : v.ToString("R", CultureInfo.InvariantCulture);

    private sealed record Family(string Name, string Help, string Type)
    {
        public ConcurrentDictionary<string, IInstrument> Series { get; } = new(StringComparer.Ordinal);
    }
}

internal interface IInstrument
{
    void Write(StringBuilder text, string name, string labels);
}

/// <summary>A monotonically increasing count.</summary>
public sealed class Counter : IInstrument
{
    private long _value;

    public long Value => Interlocked.Read(ref _value);

    public void Add(long n) => Interlocked.Add(ref _value, n);

    public void Increment() => Interlocked.Increment(ref _value);

    void IInstrument.Write(StringBuilder text, string name, string labels) =>
        text.Append(name).Append(labels.Length > 0 ? "{" + labels + "}" : "").Append(' ').Append(Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
}

/// <summary>A value that goes up and down.</summary>
public sealed class Gauge : IInstrument
{
    private long _bits;

    public double Value => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _bits));

    public void Set(double value) => Interlocked.Exchange(ref _bits, BitConverter.DoubleToInt64Bits(value));

    void IInstrument.Write(StringBuilder text, string name, string labels) =>
        text.Append(name).Append(labels.Length > 0 ? "{" + labels + "}" : "").Append(' ').Append(MetricsRegistry.Number(Value)).Append('\n');
}

/// <summary>Observations counted into fixed buckets (upper bounds, ascending), with their sum and count.</summary>
public sealed class Histogram : IInstrument
{
    private readonly double[] _bounds;
    private readonly long[] _counts;
    private long _count;
    private long _sumBits;

    public Histogram(double[] bounds)
    {
        for (var i = 1; i < bounds.Length; i++)
            if (!(bounds[i] > bounds[i - 1])) throw new ArgumentException("histogram bounds must ascend", nameof(bounds));
        _bounds = bounds;
        _counts = new long[bounds.Length];
    }

    /// <summary>Latency buckets in seconds, 0.5 ms to 10 s.</summary>
    public static double[] SecondsBuckets { get; } = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

    public long Count => Interlocked.Read(ref _count);

    public double Sum => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _sumBits));

    public void Observe(double value)
    {
        var i = Array.FindIndex(_bounds, b => value <= b);
        if (i >= 0) Interlocked.Increment(ref _counts[i]);
        Interlocked.Increment(ref _count);
        long seen, next;
        do
        {
            seen = Interlocked.Read(ref _sumBits);
            next = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + value);
        }
        while (Interlocked.CompareExchange(ref _sumBits, next, seen) != seen);
    }

    void IInstrument.Write(StringBuilder text, string name, string labels)
    {
        var prefix = labels.Length > 0 ? labels + "," : "";
        long cumulative = 0;
        for (var i = 0; i < _bounds.Length; i++)
        {
            cumulative += Interlocked.Read(ref _counts[i]);
            text.Append(name).Append("_bucket{").Append(prefix).Append("le=\"").Append(MetricsRegistry.Number(_bounds[i])).Append("\"} ")
                .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        var count = Count;
        var braces = labels.Length > 0 ? "{" + labels + "}" : "";
        text.Append(name).Append("_bucket{").Append(prefix).Append("le=\"+Inf\"} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append(name).Append("_sum").Append(braces).Append(' ').Append(MetricsRegistry.Number(Sum)).Append('\n');
        text.Append(name).Append("_count").Append(braces).Append(' ').Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }
}
