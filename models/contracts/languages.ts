// How preferred_language values are normalised (data contract, people). The metrics
// derive limited English from this column, so a value is never guessed: an ISO 639
// code or a tag such as en-US keeps its language part, a name in the small table
// below becomes its code, and anything else is quarantined (unknown_enum).

/** ISO 639-1 two-letter codes (184, including the withdrawn bh). */
export const ISO_639_1 = (
  'aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu ' +
  'fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko ' +
  'kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi ' +
  'pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ' +
  'ur uz ve vi vo wa wo xh yi yo za zh zu'
).split(' ');

/**
 * Language names (lower case) and codes that stand for another code: the languages
 * most often spoken by people with limited English in the US, by English and own name,
 * their ISO 639-2 codes, withdrawn two-letter codes, and words for "not known".
 */
export const LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  english: 'en', eng: 'en',
  spanish: 'es', 'español': 'es', espanol: 'es', castilian: 'es', spa: 'es',
  chinese: 'zh', mandarin: 'zh', cantonese: 'zh', chi: 'zh', zho: 'zh',
  vietnamese: 'vi', 'tiếng việt': 'vi', vie: 'vi',
  tagalog: 'tl', filipino: 'tl', tgl: 'tl',
  arabic: 'ar', ara: 'ar',
  french: 'fr', 'français': 'fr', francais: 'fr', fre: 'fr', fra: 'fr',
  korean: 'ko', kor: 'ko',
  russian: 'ru', rus: 'ru',
  'haitian creole': 'ht', haitian: 'ht', 'kreyòl': 'ht', kreyol: 'ht', hat: 'ht',
  portuguese: 'pt', 'português': 'pt', portugues: 'pt', por: 'pt',
  german: 'de', ger: 'de', deu: 'de',
  italian: 'it', ita: 'it',
  polish: 'pl', pol: 'pl',
  hindi: 'hi', hin: 'hi',
  japanese: 'ja', jpn: 'ja',
  somali: 'so', som: 'so',
  persian: 'fa', farsi: 'fa', dari: 'fa', per: 'fa', fas: 'fa',
  urdu: 'ur', urd: 'ur',
  bengali: 'bn', bangla: 'bn', ben: 'bn',
  gujarati: 'gu', guj: 'gu',
  punjabi: 'pa', pan: 'pa',
  nepali: 'ne', nep: 'ne',
  burmese: 'my', bur: 'my', mya: 'my',
  khmer: 'km', cambodian: 'km', khm: 'km',
  lao: 'lo', laotian: 'lo',
  amharic: 'am', amh: 'am',
  swahili: 'sw', swa: 'sw',
  ukrainian: 'uk', ukr: 'uk',
  greek: 'el', gre: 'el', ell: 'el',
  hebrew: 'he', heb: 'he', iw: 'he',
  indonesian: 'id', ind: 'id', in: 'id',
  yiddish: 'yi', yid: 'yi', ji: 'yi',
  romanian: 'ro', moldavian: 'ro', rum: 'ro', ron: 'ro', mo: 'ro',
  javanese: 'jv', jav: 'jv', jw: 'jv',
  navajo: 'nv', nav: 'nv',
  thai: 'th', tha: 'th',
  armenian: 'hy', arm: 'hy', hye: 'hy',
  turkish: 'tr', tur: 'tr',
  hmong: 'hmn',
  'american sign language': 'ase', asl: 'ase',
  unknown: 'unknown', und: 'unknown', undetermined: 'unknown', declined: 'unknown', refused: 'unknown', 'not reported': 'unknown',
};

/** Description of the rules for the contract documentation. */
export const LANGUAGE_RULES =
  'lower-cased and trimmed; an ISO 639-1 code (en, es, vi, ...) is kept; a language tag keeps its language part ' +
  '(en-US -> en, es_MX -> es, zh-Hant-TW -> zh; a two-letter part must be an ISO 639-1 code, a three-letter part is taken as ISO 639-2/3); ' +
  'a name or code in the table below becomes its code (English -> en); empty or a placeholder -> unknown; anything else is unknown_enum';
