namespace DinCluster.Cli.Tests.Deployment;

/// <summary>
/// The parts of docker-compose.yml the contract tests check, read from its text: per service the
/// `environment` keys (map or `- KEY=value` list form), the first word of `command` and whether
/// `entrypoint` is overridden. Enough for the file as we write it (block style, no anchors);
/// `docker-compose config` checks the rest of the syntax when it is installed.
/// </summary>
public sealed class ComposeFile
{
    public sealed record Service(string Name, IReadOnlyDictionary<string, string> Environment, string? Command, bool EntrypointOverridden);

    public IReadOnlyList<Service> Services { get; }

    private ComposeFile(IReadOnlyList<Service> services) => Services = services;

    public Service this[string name] => Services.Single(s => s.Name == name);

    public static ComposeFile Read(string path) => Parse(File.ReadAllLines(path));

    public static ComposeFile Parse(IEnumerable<string> lines)
    {
        var services = new List<Service>();
        string? name = null;
        Dictionary<string, string> env = [];
        string? command = null;
        var entrypoint = false;
        string? block = null; // the service key whose nested lines follow (environment, command, ...)
        var inServices = false;

        void Flush()
        {
            if (name is not null) services.Add(new Service(name, env, command, entrypoint));
            name = null;
            env = [];
            command = null;
            entrypoint = false;
            block = null;
        }

        foreach (var raw in lines)
        {
            var line = StripComment(raw);
            if (line.Trim().Length == 0) continue;
            var indent = line.Length - line.TrimStart().Length;
            var text = line.Trim();
            if (indent == 0)
            {
                Flush();
                inServices = text == "services:";
                continue;
            }
            if (!inServices) continue;
            if (indent == 2)
            {
                Flush();
                name = text.TrimEnd(':');
                continue;
            }
            if (indent == 4)
            {
                var (key, value) = SplitKey(text);
                block = key;
                if (key == "entrypoint") entrypoint = true;
                if (key == "command" && value.Length > 0) command = FirstWord(value);
                continue;
            }
            if (block == "environment")
            {
                if (text.StartsWith("- ", StringComparison.Ordinal))
                {
                    var item = Unquote(text[2..].Trim());
                    var eq = item.IndexOf('=');
                    env[eq < 0 ? item : item[..eq]] = eq < 0 ? "" : item[(eq + 1)..];
                }
                else
                {
                    var (key, value) = SplitKey(text);
                    env[key] = Unquote(value);
                }
            }
            else if (block == "command" && command is null && text.StartsWith("- ", StringComparison.Ordinal))
            {
                command = Unquote(text[2..].Trim());
            }
        }
        Flush();
        return new ComposeFile(services);
    }

    private static (string Key, string Value) SplitKey(string text)
    {
        var colon = text.IndexOf(':');
        return colon < 0 ? (text, "") : (text[..colon].Trim(), text[(colon + 1)..].Trim());
    }

    /// <summary>["train", "--x"] or `train --x` -> train.</summary>
    private static string FirstWord(string value)
    {
        var v = value.Trim();
        if (v.StartsWith('[')) v = v.TrimStart('[').Split(',')[0].TrimEnd(']');
        return Unquote(v.Trim()).Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
    }

    private static string Unquote(string v) =>
        v.Length >= 2 && ((v[0] == '"' && v[^1] == '"') || (v[0] == '\'' && v[^1] == '\'')) ? v[1..^1] : v;

    /// <summary>Drops a `#` comment (at the line start or after a space) that is not inside quotes.</summary>
    private static string StripComment(string line)
    {
        char? quote = null;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote is not null)
            {
                if (c == quote) quote = null;
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1])))
            {
                return line[..i];
            }
        }
        return line;
    }
}
