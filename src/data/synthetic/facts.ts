/**
 * The latent clinical facts of the synthetic world: what is true of a patient, independent of how a
 * site writes it down. Rates are P(finding present | class) for the four respiratory viruses of the
 * influenza-dtl task; they are hand-set from the usual clinical picture (influenza: abrupt fever,
 * myalgia, headache; RSV: infant wheeze, retractions, poor feeding; parainfluenza: croup, barking
 * cough, stridor; hMPV: wheeze and hypoxemia, also in the elderly), so that both the binary and the
 * 4-class task are learnable but not trivial.
 *
 * Each fact lists surface variants a site may use instead of the canonical text: synonyms,
 * abbreviations and reworded forms, as different hospitals' systems write them.
 */

export const CLASSES = ["influenza", "RSV", "parainfluenza", "hMPV"] as const;
export type ClassName = (typeof CLASSES)[number];

/** Class mix of the latent population (influenza-dtl: I 27%, R 44%, P 15%, M 14%). */
export const BASE_PREVALENCE: Record<ClassName, number> = {
  influenza: 0.27,
  RSV: 0.44,
  parainfluenza: 0.15,
  hMPV: 0.14,
};

export interface BinaryFact {
  id: string;
  /** Canonical text (the reference site writes this). */
  text: string;
  /** Alternative surface texts: synonyms, abbreviations, reworded forms. */
  variants: string[];
  /** A standard code (UMLS CUI) some sites use as their code for the fact. */
  cui: string;
  /** P(present) for classes not listed in `rates`. */
  base: number;
  rates?: Partial<Record<ClassName, number>>;
}

const f = (
  id: string,
  cui: string,
  text: string,
  variants: string[],
  base: number,
  rates?: Partial<Record<ClassName, number>>,
): BinaryFact => ({ id, cui, text, variants, base, ...(rates ? { rates } : {}) });

/** Findings every site records (the shared facts). */
export const SHARED_FACTS: readonly BinaryFact[] = [
  f(
    "fever_reported",
    "C2055125",
    "reported fever",
    ["fever (reported)", "subjective fever", "pt reports fever", "febrile per parent"],
    0.6,
    { influenza: 0.85 },
  ),
  f(
    "cough_dry",
    "C0850149",
    "nonproductive cough",
    ["dry cough", "cough, nonproductive", "non-productive cough", "NPC"],
    0.35,
    { influenza: 0.55 },
  ),
  f(
    "cough_productive",
    "C0239134",
    "productive cough",
    ["wet cough", "cough, productive", "cough with sputum"],
    0.2,
    { hMPV: 0.3 },
  ),
  f(
    "cough_barking",
    "C0234866",
    "barking cough",
    ["croupy cough", "seal-like cough", "cough, barking"],
    0.04,
    { parainfluenza: 0.5 },
  ),
  f(
    "cough_paroxysmal",
    "C0231911",
    "paroxysmal cough",
    ["coughing fits", "cough, paroxysmal", "spasmodic cough"],
    0.05,
    { RSV: 0.08 },
  ),
  f("croup", "C0010380", "croup", ["laryngotracheobronchitis", "LTB", "croup syndrome"], 0.03, {
    parainfluenza: 0.45,
  }),
  f(
    "stridor",
    "C0038450",
    "stridor",
    ["inspiratory stridor", "noisy breathing (stridor)", "stridulous breathing"],
    0.03,
    { parainfluenza: 0.3 },
  ),
  f("hoarseness", "C0019825", "hoarseness", ["hoarse voice", "dysphonia", "voice, hoarse"], 0.05, {
    parainfluenza: 0.25,
    influenza: 0.08,
  }),
  f(
    "wheezing",
    "C0043144",
    "wheezing",
    ["wheeze", "wheezes on auscultation", "expiratory wheeze", "WHZ"],
    0.15,
    { RSV: 0.45, hMPV: 0.4 },
  ),
  f(
    "dyspnea",
    "C0013404",
    "dyspnea",
    ["shortness of breath", "SOB", "breathlessness", "difficulty breathing"],
    0.25,
    { RSV: 0.4, hMPV: 0.45 },
  ),
  f(
    "tachypnea",
    "C0231835",
    "tachypnea",
    ["rapid breathing", "fast breathing", "respiratory rate increased", "RR elevated"],
    0.2,
    { RSV: 0.45, hMPV: 0.35 },
  ),
  f(
    "retractions",
    "C2077320",
    "chest wall retractions",
    ["retractions", "intercostal retractions", "subcostal retractions", "chest indrawing"],
    0.08,
    { RSV: 0.35, hMPV: 0.2 },
  ),
  f(
    "nasal_flaring",
    "C0277873",
    "nasal flaring",
    ["flaring of nostrils", "alar flaring", "flaring, nasal"],
    0.04,
    { RSV: 0.15, hMPV: 0.08 },
  ),
  f("grunting", "C0241902", "grunting", ["expiratory grunting", "grunting respirations", "grunts"], 0.03, {
    RSV: 0.1,
  }),
  f(
    "hypoxemia",
    "C0700292",
    "hypoxemia (sp02 on room air < 90%)",
    ["low oxygen saturation", "hypoxia", "SpO2 < 90% on RA", "desaturation"],
    0.05,
    { hMPV: 0.2, RSV: 0.12 },
  ),
  f(
    "respiratory_distress",
    "C0476273",
    "respiratory distress",
    ["resp distress", "increased work of breathing", "labored breathing", "WOB increased"],
    0.1,
    { RSV: 0.25, hMPV: 0.2 },
  ),
  f(
    "crackles",
    "C0425545",
    "crackles",
    ["rales/crackles", "crepitations", "fine crackles", "crackles on auscultation"],
    0.08,
    { hMPV: 0.2, RSV: 0.15 },
  ),
  f("rhonchi", "C0035508", "rhonchi", ["coarse breath sounds", "rhonchus", "sonorous wheeze"], 0.08, {
    RSV: 0.15,
  }),
  f("apnea", "C0003578", "apnea", ["apneic episode", "breathing pauses", "apnoea"], 0.01, { RSV: 0.05 }),
  f("cyanosis", "C0010520", "cyanosis", ["bluish skin", "blue discoloration", "cyanotic"], 0.01, {
    RSV: 0.03,
    hMPV: 0.03,
  }),
  f(
    "bronchiolitis",
    "C0006271",
    "bronchiolitis",
    ["bronchiolitis, acute", "acute bronchiolitis", "viral bronchiolitis"],
    0.06,
    { RSV: 0.4, hMPV: 0.2 },
  ),
  f(
    "pneumonia",
    "C0032310",
    "viral pneumonia",
    ["pneumonia, viral", "viral PNA", "pneumonitis (viral)"],
    0.04,
    { hMPV: 0.15, influenza: 0.07 },
  ),
  f(
    "infiltrate",
    "C0235896",
    "infiltrate",
    ["pulmonary infiltrate", "infiltrate on CXR", "lung opacity"],
    0.05,
    { hMPV: 0.15 },
  ),
  f("myalgia", "C0231528", "myalgia", ["muscle aches", "body aches", "muscle pain", "aching muscles"], 0.08, {
    influenza: 0.45,
  }),
  f("headache", "C0018681", "headache", ["cephalalgia", "head pain", "HA"], 0.1, { influenza: 0.4 }),
  f("chills", "C0085593", "chills", ["rigors/chills", "shivering", "feeling cold"], 0.08, {
    influenza: 0.35,
  }),
  f("malaise", "C0231218", "malaise", ["feeling unwell", "general malaise", "not feeling well"], 0.15, {
    influenza: 0.35,
  }),
  f(
    "fatigue",
    "C0015672",
    "weakness or fatigue",
    ["fatigue", "tiredness", "weakness/fatigue", "lethargy"],
    0.15,
    { influenza: 0.4 },
  ),
  f("arthralgia", "C0003862", "arthralgia", ["joint pain", "joint aches", "arthralgias"], 0.03, {
    influenza: 0.12,
  }),
  f(
    "sore_throat",
    "C0242429",
    "sore throat",
    ["pharyngitis symptoms", "throat pain", "ST", "odynophagia"],
    0.15,
    { influenza: 0.4, parainfluenza: 0.2 },
  ),
  f("runny_nose", "C1260880", "runny nose", ["rhinorrhea", "nasal discharge", "runny nose/rhinorrhea"], 0.4, {
    RSV: 0.55,
  }),
  f(
    "congestion",
    "C0027424",
    "stuffy nose",
    ["nasal congestion", "blocked nose", "congestion, nasal"],
    0.35,
    { RSV: 0.5 },
  ),
  f(
    "conjunctivitis",
    "C0009763",
    "conjunctivitis",
    ["pink eye", "red eyes", "conjunctival injection"],
    0.04,
    { influenza: 0.06, hMPV: 0.05 },
  ),
  f("ili", "C0521839", "influenza-like illness", ["ILI", "flu-like illness", "flu-like symptoms"], 0.1, {
    influenza: 0.45,
  }),
  f("acute_onset", "C1276802", "acute onset", ["sudden onset", "abrupt onset", "onset, acute"], 0.2, {
    influenza: 0.45,
  }),
  f(
    "poor_feeding",
    "C0576456",
    "poor feeding",
    ["decreased oral intake", "feeding poorly", "reduced PO intake"],
    0.12,
    { RSV: 0.35 },
  ),
  f(
    "decreased_activity",
    "C0391853",
    "decreased activity",
    ["less active", "lethargic", "activity, decreased"],
    0.1,
    { RSV: 0.2 },
  ),
  f("vomiting", "C0042963", "vomiting", ["emesis", "throwing up", "N/V (vomiting)"], 0.12, {
    influenza: 0.18,
  }),
  f(
    "posttussive_emesis",
    "AC000001",
    "posttussive emesis",
    ["vomiting after coughing", "post-tussive vomiting", "emesis after cough"],
    0.05,
    { RSV: 0.1 },
  ),
  f("nausea", "C0027497", "nausea", ["nauseated", "queasy", "nausea present"], 0.06, { influenza: 0.12 }),
  f("diarrhea", "C0011991", "diarrhea", ["loose stools", "diarrhoea", "watery stools"], 0.08),
  f("abdominal_pain", "C0000737", "abdominal pain", ["belly pain", "stomach ache", "abd pain"], 0.06, {
    influenza: 0.08,
  }),
  f("chest_pain", "C0008031", "chest pain", ["CP", "thoracic pain", "pain in chest"], 0.05, {
    influenza: 0.08,
    hMPV: 0.08,
  }),
  f("anorexia", "C0003123", "anorexia", ["loss of appetite", "decreased appetite", "poor appetite"], 0.1, {
    influenza: 0.2,
  }),
  f(
    "lymphadenopathy",
    "C0235592",
    "cervical lymphadenopathy",
    ["swollen neck glands", "cervical adenopathy", "lymphadenopathy, cervical"],
    0.04,
  ),
  f("ill_appearing", "C2051411", "ill-appearing", ["ill appearing", "appears ill", "toxic-looking"], 0.1, {
    RSV: 0.15,
  }),
  f("seizure", "C0036572", "seizure", ["convulsion", "febrile seizure", "fit"], 0.01, { influenza: 0.02 }),
  f(
    "abnormal_cxr",
    "OC3842377",
    "abnormal chest radiograph findings",
    ["abnormal CXR", "chest x-ray abnormal", "CXR: abnormal findings"],
    0.06,
    { hMPV: 0.18 },
  ),
  f(
    "flu_test_ordered",
    "C2939015",
    "lab testing ordered (influenza)",
    ["influenza test ordered", "flu swab ordered", "rapid flu test"],
    0.3,
    { influenza: 0.5 },
  ),
  f(
    "rsv_test_ordered",
    "C1656431",
    "lab testing ordered (RSV)",
    ["RSV test ordered", "RSV swab", "respiratory syncytial virus test"],
    0.3,
    { RSV: 0.5 },
  ),
];

/** Findings that only one site records (each is handed to at most one site). */
export const SITE_ONLY_FACTS: readonly BinaryFact[] = [
  f("mask_at_triage", "L0000001", "mask provided at triage", ["surgical mask given"], 0.4, {
    influenza: 0.5,
  }),
  f("isolation", "L0000002", "droplet isolation precautions", ["droplet precautions"], 0.2, {
    influenza: 0.3,
  }),
  f("pulse_ox_ordered", "L0000003", "continuous pulse oximetry", ["pulse ox monitoring"], 0.2, { RSV: 0.35 }),
  f("nasal_suction", "AC000004", "nasopharyngeal suctioning", ["NP suctioning"], 0.1, { RSV: 0.3 }),
  f("daycare", "L0000005", "attends daycare", ["daycare attendance"], 0.25, { RSV: 0.35 }),
  f("flu_vaccine", "L0000006", "influenza vaccine this season", ["flu shot this season"], 0.35, {
    influenza: 0.2,
  }),
  f("sick_contact", "L0000007", "sick contact at home", ["household sick contact"], 0.3, { influenza: 0.4 }),
  f("asthma_history", "L0000008", "history of asthma", ["asthma hx"], 0.12, { hMPV: 0.2 }),
  f("otitis_media", "L0000009", "otitis media", ["ear infection"], 0.1, { RSV: 0.15 }),
  f("antipyretic_given", "L0000010", "antipyretic given in ED", ["acetaminophen given"], 0.35, {
    influenza: 0.5,
  }),
  f("dehydration", "L0000011", "dehydration", ["dehydrated"], 0.08, { RSV: 0.12 }),
  f("rash", "L0000012", "rash", ["skin rash"], 0.04),
  f("smoker_household", "L0000013", "smoker in household", ["secondhand smoke exposure"], 0.15),
  f("prematurity", "L0000014", "history of prematurity", ["born premature"], 0.06, { RSV: 0.1 }),
  f("chest_xray_ordered", "L0000015", "chest x-ray ordered", ["CXR ordered"], 0.25, { hMPV: 0.4 }),
  f("steroids_given", "L0000016", "dexamethasone given", ["steroid given in ED"], 0.05, {
    parainfluenza: 0.4,
  }),
];

/** A multi-level fact: each class has its own distribution over the canonical levels. */
export interface LevelFact {
  id: string;
  text: string;
  variants: string[];
  levels: readonly string[];
  /** Canonical level texts and their variants (first = canonical). */
  levelTexts: Record<string, string[]>;
  /** The influenza-dtl level codes of the reference site. */
  findingsLevels: Record<string, string>;
  cui: string;
  /** P(level | class), rows in `levels` order. */
  dist: Record<ClassName, number[]>;
}

export const TEMPERATURE: LevelFact = {
  id: "temperature",
  cui: "C0424781",
  text: "temperature",
  variants: ["body temperature", "temp", "max temperature"],
  levels: ["high", "low_grade", "normal", "none"],
  levelTexts: {
    high: ["high grade temperature (>= 104.0F / 40C)", "temp >= 104F", "high fever (40C or more)"],
    low_grade: ["low grade temperature (100.4F-103.9F / 38-39.9C)", "temp 100.4-103.9F", "fever 38-39.9C"],
    normal: ["inconsequential temperature (< 100.4F / 38C)", "afebrile (< 100.4F)", "temp normal"],
    none: ["no temperature information", "temperature not recorded", "no temp documented"],
  },
  findingsLevels: { high: "P", low_grade: "A", normal: "I", none: "M" },
  dist: {
    influenza: [0.06, 0.62, 0.3, 0.02],
    RSV: [0.02, 0.4, 0.56, 0.02],
    parainfluenza: [0.02, 0.42, 0.54, 0.02],
    hMPV: [0.03, 0.5, 0.45, 0.02],
  },
};

export const AGE_GROUP: LevelFact = {
  id: "age_group",
  cui: "agegroup",
  text: "age group",
  variants: ["age category", "age band"],
  levels: ["under5", "5to64", "65plus"],
  levelTexts: {
    under5: ["ages less than 5, infant or young child", "age < 5 years", "pediatric (under 5)"],
    "5to64": ["ages between 5 and 64", "age 5-64 years", "child, adolescent or adult"],
    "65plus": ["ages 65 and older, elderly person", "age >= 65 years", "elderly (65+)"],
  },
  findingsLevels: { under5: "ls5", "5to64": "ge6ls65", "65plus": "ge64" },
  dist: {
    influenza: [0.55, 0.35, 0.1],
    RSV: [0.92, 0.05, 0.03],
    parainfluenza: [0.85, 0.13, 0.02],
    hMPV: [0.7, 0.18, 0.12],
  },
};

export const LEVEL_FACTS: readonly LevelFact[] = [AGE_GROUP, TEMPERATURE];

/** P(present | class) of a binary fact. */
export function factRate(fact: BinaryFact, c: ClassName): number {
  return fact.rates?.[c] ?? fact.base;
}
