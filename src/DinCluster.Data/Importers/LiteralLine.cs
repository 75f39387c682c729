using System.Globalization;
using System.Text;

namespace DinCluster.Data.Importers;

/// <summary>
/// Reads one line holding an object literal in JSON or in Python's dict syntax (the 2014 Amazon metadata
/// files are <c>str(dict)</c> lines: single-quoted strings, True/False/None, tuples), pulling out only the
/// top-level keys asked for. Other values are scanned over without being built.
/// <code>
///   {"reviewerID": "A2SUAM1J3GNN3B", "asin": "0000013714", "unixReviewTime": 1393545600, ...}
///   {'asin': '0000031852', 'categories': [['Sports &amp; Outdoors', 'Dance']], 'price': 3.17, ...}
/// </code>
/// Values come back as string, long, double, bool, null, List&lt;object?&gt; (lists and tuples) or
/// Dictionary&lt;string, object?&gt;. Not thread-safe; one instance per reader.
/// </summary>
internal sealed class LiteralLine
{
    private readonly StringBuilder _text = new();
    private string _s = "";
    private int _i;

    /// <summary>Fills <paramref name="values"/> with the wanted keys present in the line; false with an error
    /// message when the line is not an object literal.</summary>
    public bool TryRead(string line, IReadOnlyCollection<string> wanted, Dictionary<string, object?> values, out string error)
    {
        values.Clear();
        _s = line;
        _i = 0;
        error = "";
        try
        {
            Ws();
            Expect('{');
            Ws();
            if (Peek() == '}')
            {
                _i++;
            }
            else
            {
                while (true)
                {
                    Ws();
                    var key = ParseString();
                    Ws();
                    Expect(':');
                    Ws();
                    if (wanted.Contains(key)) values[key] = ParseValue();
                    else SkipValue();
                    Ws();
                    var c = Next();
                    if (c == '}') break;
                    if (c != ',') throw Error($"expected ',' or '}}' after the value of '{key}'");
                    Ws();
                    if (Peek() == '}') { _i++; break; } // a trailing comma
                }
            }
            Ws();
            if (_i < _s.Length) throw Error("text after the closing '}'");
            return true;
        }
        catch (FormatException e)
        {
            error = e.Message;
            return false;
        }
    }

    private object? ParseValue()
    {
        var c = Peek();
        switch (c)
        {
            case '{':
            {
                _i++;
                var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                Ws();
                if (Peek() == '}') { _i++; return dict; }
                while (true)
                {
                    Ws();
                    var key = ParseString();
                    Ws();
                    Expect(':');
                    Ws();
                    dict[key] = ParseValue();
                    Ws();
                    var d = Next();
                    if (d == '}') return dict;
                    if (d != ',') throw Error("expected ',' or '}' in a dict");
                    Ws();
                    if (Peek() == '}') { _i++; return dict; }
                }
            }
            case '[' or '(':
            {
                _i++;
                var close = c == '[' ? ']' : ')';
                var list = new List<object?>();
                Ws();
                if (Peek() == close) { _i++; return list; }
                while (true)
                {
                    Ws();
                    list.Add(ParseValue());
                    Ws();
                    var d = Next();
                    if (d == close) return list;
                    if (d != ',') throw Error($"expected ',' or '{close}' in a list");
                    Ws();
                    if (Peek() == close) { _i++; return list; }
                }
            }
            default:
                if (IsStringStart()) return ParseString();
                if (c is '-' or '+' or '.' || char.IsAsciiDigit(c)) return ParseNumber();
                return ParseWord();
        }
    }

    private void SkipValue()
    {
        var depth = 0;
        do
        {
            Ws();
            var c = Peek();
            if (IsStringStart())
            {
                SkipString();
            }
            else if (c is '{' or '[' or '(')
            {
                _i++;
                depth++;
            }
            else if (c is '}' or ']' or ')')
            {
                if (depth == 0) throw Error($"unexpected '{c}'");
                _i++;
                depth--;
            }
            else if (c is ',' or ':')
            {
                if (depth == 0) throw Error($"unexpected '{c}'");
                _i++;
            }
            else
            {
                // a number or a word: up to the next delimiter
                var start = _i;
                while (_i < _s.Length && _s[_i] is not (',' or ':' or '}' or ']' or ')' or ' ' or '\t')) _i++;
                if (_i == start) throw Error("a value is missing");
            }
        }
        while (depth > 0);
    }

    private bool IsStringStart()
    {
        if (_i >= _s.Length) return false;
        var c = _s[_i];
        if (c is '"' or '\'') return true;
        // Python prefixes: u'..', b'..', r'..'
        return c is 'u' or 'U' or 'b' or 'B' or 'r' or 'R' && _i + 1 < _s.Length && _s[_i + 1] is '"' or '\'';
    }

    private string ParseString()
    {
        if (!IsStringStart()) throw Error("expected a quoted string");
        var raw = false;
        if (_s[_i] is not ('"' or '\''))
        {
            raw = _s[_i] is 'r' or 'R';
            _i++;
        }
        var quote = _s[_i++];
        _text.Clear();
        while (true)
        {
            if (_i >= _s.Length) throw Error("a string is not closed");
            var c = _s[_i++];
            if (c == quote) return _text.ToString();
            if (c != '\\' || raw)
            {
                _text.Append(c);
                continue;
            }
            if (_i >= _s.Length) throw Error("a string ends in a backslash");
            var e = _s[_i++];
            switch (e)
            {
                case 'n': _text.Append('\n'); break;
                case 't': _text.Append('\t'); break;
                case 'r': _text.Append('\r'); break;
                case 'b': _text.Append('\b'); break;
                case 'f': _text.Append('\f'); break;
                case '0': _text.Append('\0'); break;
                case '\\' or '/' or '"' or '\'': _text.Append(e); break;
                case 'x': AppendCode(2); break;
                case 'u': AppendCode(4); break;
                case 'U': AppendCode(8); break;
                default: _text.Append('\\').Append(e); break; // Python keeps unknown escapes as written
            }
        }
    }

    private void AppendCode(int digits)
    {
        if (_i + digits > _s.Length || !int.TryParse(_s.AsSpan(_i, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code))
            throw Error($"a \\x/\\u escape needs {digits} hex digits");
        _i += digits;
        if (code > 0x10FFFF) throw Error("an escape beyond U+10FFFF");
        if (code < 0x10000) _text.Append((char)code);
        else _text.Append(char.ConvertFromUtf32(code));
    }

    private void SkipString()
    {
        var raw = false;
        if (_s[_i] is not ('"' or '\''))
        {
            raw = _s[_i] is 'r' or 'R';
            _i++;
        }
        var quote = _s[_i++];
        while (true)
        {
            if (_i >= _s.Length) throw Error("a string is not closed");
            var c = _s[_i++];
            if (c == quote) return;
            if (c == '\\' && !raw) _i++;
        }
    }

    private object ParseNumber()
    {
        var start = _i;
        while (_i < _s.Length && (char.IsAsciiDigit(_s[_i]) || _s[_i] is '-' or '+' or '.' or 'e' or 'E' or 'L')) _i++;
        var text = _s.AsSpan(start, _i - start).TrimEnd('L'); // Python 2 longs: 123L
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        throw Error($"'{text}' is not a number");
    }

    private object? ParseWord()
    {
        var start = _i;
        while (_i < _s.Length && char.IsAsciiLetter(_s[_i])) _i++;
        var word = _s.AsSpan(start, _i - start);
        return word switch
        {
            "true" or "True" => true,
            "false" or "False" => false,
            "null" or "None" => null,
            "NaN" or "nan" => double.NaN,
            "Infinity" or "inf" => double.PositiveInfinity,
            _ => throw Error(word.IsEmpty ? $"unexpected '{Peek()}'" : $"unknown word '{word}'"),
        };
    }

    private void Ws()
    {
        while (_i < _s.Length && char.IsWhiteSpace(_s[_i])) _i++;
    }

    private char Peek() => _i < _s.Length ? _s[_i] : throw Error("the line ends early");

    private char Next() => _i < _s.Length ? _s[_i++] : throw Error("the line ends early");

    private void Expect(char c)
    {
        if (Peek() != c) throw Error($"expected '{c}'");
        _i++;
    }

    private FormatException Error(string what) => new($"not a JSON or Python object literal at column {Math.Min(_i, _s.Length) + 1}: {what}");
}
