using System.Globalization;

namespace DinCluster.Cli;

/// <summary>
/// `--name value` and `--flag` options after a command word. Every option a command reads
/// is marked used; <see cref="RejectUnknown"/> then names anything the user mistyped.
/// </summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    public List<string> Positional { get; } = [];

    public CliArgs(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                Positional.Add(a);
                continue;
            }
            var name = a[2..];
            string? value = null;
            var eq = name.IndexOf('=');
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = list[++i];
            }
            _options[name] = value;
        }
    }

    public bool Has(string name)
    {
        _used.Add(name);
        return _options.ContainsKey(name);
    }

    public bool Flag(string name)
    {
        if (!Has(name)) return false;
        var v = _options[name];
        if (v is null) return true;
        // A flag followed by a positional word took it as its value; give it back.
        if (v is "true" or "false") return v == "true";
        Positional.Add(v);
        return true;
    }

    public string? Get(string name)
    {
        _used.Add(name);
        return _options.TryGetValue(name, out var v)
            ? v ?? throw new CliException($"--{name} needs a value")
            : null;
    }

    public string Get(string name, string fallback) => Get(name) ?? fallback;

    public string Require(string name) =>
        Get(name) ?? throw new CliException($"--{name} is required");

    public int Int(string name, int fallback) => (int)Long(name, fallback);

    public long Long(string name, long fallback)
    {
        var v = Get(name);
        if (v is null) return fallback;
        return long.TryParse(v.Replace("_", ""), NumberStyles.Integer, CultureInfo.InvariantCulture, out var x)
            ? x
            : throw new CliException($"--{name} is set to '{v}', must be a whole number");
    }

    public double Double(string name, double fallback)
    {
        var v = Get(name);
        if (v is null) return fallback;
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
            ? x
            : throw new CliException($"--{name} is set to '{v}', must be a number");
    }

    public void RejectUnknown()
    {
        var unknown = _options.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new CliException($"unknown option{(unknown.Count > 1 ? "s" : "")}: {string.Join(", ", unknown.Select(u => "--" + u))}");
    }
}

/// <summary>A usage error: printed without a stack trace, exit code 2.</summary>
public sealed class CliException(string message) : Exception(message);
